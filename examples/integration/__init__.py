"""A tiny integrator backend talking to Scorpio Play v4, and its tests against the simulator."""
