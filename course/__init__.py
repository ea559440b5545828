"""The course's own package: data registry, engine switch, plots, widgets and style-transfer helpers."""
