"""Interactive widgets for the lessons: one module per widget (`course.widgets.neuron`, ...)."""
