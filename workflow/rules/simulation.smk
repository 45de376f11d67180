# Simulation stage (SPEC A16): power simulation for a definitive trial (issue 6).
