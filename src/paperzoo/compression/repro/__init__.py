"""The reproduction of :mod:`paperzoo.compression`: config, units, claims, figures, presets and
entry points. Library users import the paper's components from :mod:`paperzoo.compression`."""
