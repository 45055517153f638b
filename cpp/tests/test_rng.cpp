// Philox4x32-10 known-answer vectors (Random123 tests/kat_vectors, every "philox4x32 10" line),
// scalar and in lanes on every instruction set this CPU has; index addressing; the same words
// and normals on every instruction set; normal moments.
#include <doctest.h>

#include <cmath>
#include <vector>

#include "plrf/rng/normal.hpp"

using namespace plrf;
using namespace plrf::rng;

namespace {
struct Kat {
  Counter counter;
  Key key;
  Counter expected;
};
const Kat kKats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

// Every instruction set up to the one in use (PLRF_ISA caps it).
std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (int i = 0; i <= static_cast<int>(isa()); ++i) out.push_back(static_cast<Isa>(i));
  return out;
}
}  // namespace

TEST_CASE("philox4x32_10 known-answer vectors, scalar") {
  for (const Kat& k : kKats) CHECK(philox4x32_10(k.counter, k.key) == k.expected);
}

TEST_CASE("philox4x32_10 known-answer vectors, in lanes on every instruction set") {
  for (Isa on : available_isas()) {
    CAPTURE(isa_name(on));
    for (const Kat& k : kKats) {
      std::uint64_t out[16];
      const std::uint64_t block = join(k.counter[0], k.counter[1]);
      lane_words_on(on, RoundKeys(k.key), k.counter[2], k.counter[3], block, out);
      CHECK(out[0] == join(k.expected[0], k.expected[1]));
      CHECK(out[1] == join(k.expected[2], k.expected[3]));
    }
  }
}

TEST_CASE("words and normals are the same on every instruction set and equal the scalar path") {
  const StreamKey key{0x123456789abcdefULL, kEigenSamples};
  const std::uint64_t step = (1ULL << 40) + 3, first = 1001;  // odd first: starts mid-block and mid-group
  const std::size_t n = 5003;
  std::vector<std::uint64_t> scalar_words(n);
  std::vector<double> scalar_normals(n);
  int slow = 0;  // draws whose fast test fails: the lanes' rejection path must reproduce them too
  const rng::detail::ZigguratTables& z = rng::detail::ziggurat();
  for (std::size_t i = 0; i < n; ++i) {
    scalar_words[i] = main_word(key, step, first + i);
    scalar_normals[i] = rng::detail::normal_at(key, step, first + i);
    const std::uint32_t v = normal_value(key, step, first + i);
    const int layer = static_cast<int>(v & rng::detail::kLayerMask);
    slow += !(rng::detail::lattice_u(v) * z.x[layer] < z.x[layer + 1]);
  }
  CHECK(slow >= 5);  // ~0.4% of 5003
  for (Isa on : available_isas()) {
    CAPTURE(isa_name(on));
    std::vector<std::uint64_t> words(n);
    std::vector<double> normals(n);
    rng::detail::fill<rng::detail::Draw::kWord>(on, key, step, first, n, words.data());
    rng::detail::fill<rng::detail::Draw::kNormal>(on, key, step, first, n, normals.data());
    CHECK(words == scalar_words);
    CHECK(normals == scalar_normals);
  }
}

TEST_CASE("normals do not depend on how the index range is split") {
  const StreamKey key{7, kFeatures};
  std::vector<double> whole(1001), parts(1001);
  fill_normals(key, 3, 5, whole.size(), whole.data());
  std::size_t done = 0;
  for (std::size_t chunk : {1, 2, 3, 7, 100, 500, 388}) {
    fill_normals(key, 3, 5 + done, chunk, parts.data() + done);
    done += chunk;
  }
  REQUIRE(done == whole.size());
  CHECK(whole == parts);
}

TEST_CASE("normal moments (brute force, 4e6 draws, 6-sigma bounds)") {
  const std::size_t n = 4'000'000;
  std::vector<double> x(n);
  fill_normals({1, kEigenSamples}, 0, 0, n, x.data());
  double m1 = 0, m2 = 0, m4 = 0, tail = 0;
  for (double z : x) {
    m1 += z;
    m2 += z * z;
    m4 += z * z * z * z;
    tail += std::abs(z) > rng::detail::ZigguratTables::kR;  // the ziggurat's tail branch
  }
  m1 /= n; m2 /= n; m4 /= n; tail /= n;
  CHECK(std::abs(m1) < 6 * std::sqrt(1.0 / n));
  CHECK(std::abs(m2 - 1) < 6 * std::sqrt(2.0 / n));
  CHECK(std::abs(m4 - 3) < 6 * std::sqrt(96.0 / n));
  const double p_tail = 2 * 0.5 * std::erfc(rng::detail::ZigguratTables::kR / std::sqrt(2.0));  // P(|Z| > R)
  CHECK(std::abs(tail - p_tail) < 6 * std::sqrt(p_tail / n));
}

TEST_CASE("the ziggurat's tail beyond R follows the normal tail out to 6 sigma (1e6 conditional draws)") {
  // A value in the base layer whose m fails the fast test goes straight to the tail sampler, so
  // ziggurat_draw(v, ..., index) for many indices samples |Z| given |Z| > R. Expected fraction
  // beyond t: Q(t) / Q(R); counts within 5 Poisson standard deviations (3.7e-5 * 1e6 = 37 beyond 6).
  const std::uint32_t tail_word = 0xFFFFF800u;  // layer 0, sign +, largest m
  const double R = rng::detail::ZigguratTables::kR;
  auto Q = [](double t) { return 0.5 * std::erfc(t / std::sqrt(2.0)); };
  const double cuts[] = {4.25, 4.5, 5.0, 5.5, 6.0};
  double count[5] = {}, not_in_tail = 0;
  const int n = 1'000'000;
  for (int i = 0; i < n; ++i) {
    const double z = rng::detail::ziggurat_draw(tail_word, {3, kScalars}, 0, static_cast<std::uint64_t>(i));
    not_in_tail += z <= R;
    for (int c = 0; c < 5; ++c) count[c] += z > cuts[c];
  }
  CHECK(not_in_tail == 0);
  for (int c = 0; c < 5; ++c) {
    CAPTURE(cuts[c]);
    const double expected = n * Q(cuts[c]) / Q(R);
    CHECK(std::abs(count[c] - expected) < 5 * std::sqrt(expected));
  }
}
