"""The reproduction of :mod:`paperzoo.neural_processes`: config, units, claims, figures, presets and
entry points. Library users import the paper's components from :mod:`paperzoo.neural_processes`."""
