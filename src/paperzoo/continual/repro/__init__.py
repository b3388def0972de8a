"""The reproduction of :mod:`paperzoo.continual`: config, units, claims, figures, presets and
entry points. Library users import the paper's components from :mod:`paperzoo.continual`."""
