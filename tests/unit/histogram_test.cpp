// Histogram estimates: every quantile lies within what was observed.
#include <catch2/catch.hpp>

#include "obs/histogram.hpp"

using namespace ebuse;

TEST_CASE("one observation is every quantile") {
  auto h = make_group_histogram();
  CHECK(h.quantile(0.5) == 0);
  h.observe(1);
  CHECK(h.quantile(0.5) == 1);
  CHECK(h.quantile(0.95) == 1);
  CHECK(h.quantile(0.99) == 1);
  CHECK(h.min() == 1);
  CHECK(h.max() == 1);
  auto lat = make_latency_histogram();
  lat.observe(0.0002);
  CHECK(lat.quantile(0.5) == Approx(0.0002));
  CHECK(lat.quantile(0.99) == Approx(0.0002));
}

TEST_CASE("quantiles stay between the smallest and largest observation") {
  auto h = make_group_histogram();
  h.observe(3);
  h.observe(4); // both in the bucket (2, 5]
  for (double q : {0.0, 0.01, 0.5, 0.95, 0.99, 1.0}) {
    INFO(q);
    CHECK(h.quantile(q) >= 3);
    CHECK(h.quantile(q) <= 4);
  }
  // Past the last bound: the largest observation, not the bound.
  h.observe(25000);
  CHECK(h.quantile(1.0) == 25000);
  CHECK(h.quantile(0.99) > 10000);
  CHECK(h.quantile(0.99) <= 25000);
  CHECK(h.max() == 25000);
  CHECK(h.min() == 3);
}

TEST_CASE("interpolation inside a bucket still spreads many observations") {
  auto h = make_latency_histogram();
  for (int i = 1; i <= 100; ++i)
    h.observe(0.001 * i / 100.0 + 0.0005); // (0.5 ms, 1.5 ms]
  double p50 = h.quantile(0.5), p99 = h.quantile(0.99);
  CHECK(p50 > 0.0005);
  CHECK(p50 < p99);
  CHECK(p99 <= 0.0015);
}
