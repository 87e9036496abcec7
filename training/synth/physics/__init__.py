"""Physics-based CT engine (see :mod:`training.synth.physics.battery`)."""
