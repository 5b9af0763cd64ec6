// check_draw_order.py's must-fail twin: both statements draw twice in an unspecified order.
void SetUp(World& world, Rng& rng) {
  world.SetClock(0, rng.UniformDuration(Duration::Millis(-50), Duration::Millis(50)),
                 rng.UniformInt(-200, 200));
  const int64_t drift = rng.UniformInt(1, 1000) * (rng.Bernoulli(0.5) ? 1 : -1);
}
