"""Everything that faces the outside world, and the composition root that wires the desk."""
