// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Self-contained test of the C++ log-mel core (no gtest, no Python). From the repository root:
//
//   g++ -std=c++17 -O2 -ffp-contract=off -Icpp_ext cpp_ext/core/*.cc tests/cpp/test_log_mel.cc -o /tmp/test_log_mel && /tmp/test_log_mel
//
// Prints one line per failed check and exits 1 if any failed. tests/test_features.py compiles and
// runs it when g++ is available.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log10.h"
#include "core/log_mel.h"
#include "core/mel_filterbank.h"
#include "core/rfft.h"
#include "core/streaming_log_mel.h"
#include "expect.h"

namespace {

template <typename F>
bool Throws(F f) {
  try {
    f();
  } catch (const std::runtime_error&) {
    return true;
  }
  return false;
}

// Deterministic pseudo-random numbers (64-bit LCG), so the test needs no <random> distribution
// whose output could differ between standard libraries.
struct Lcg {
  uint64_t state;
  explicit Lcg(uint64_t seed) : state(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  uint32_t Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  }
  double Uniform() { return Next() / 2147483648.0; }  // [0, 1)
};

// A speech-like signal: a few harmonics with a gliding pitch, amplitude bursts and pauses, noise.
std::vector<float> Signal(int64_t n, uint64_t seed) {
  Lcg rng(seed);
  std::vector<float> x(n);
  double phase = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double t = i / 16000.0;
    const double f0 = 120.0 + 60.0 * std::sin(2.0 * 3.141592653589793 * 0.7 * t);
    phase += 2.0 * 3.141592653589793 * f0 / 16000.0;
    const double envelope = std::pow(std::fabs(std::sin(2.0 * 3.141592653589793 * 1.3 * t)), 3.0);
    double v = 0.0;
    for (int k = 1; k <= 6; ++k) v += std::sin(k * phase) / k;
    x[i] = static_cast<float>(0.3 * envelope * v + 0.003 * (rng.Uniform() - 0.5));
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Reference implementations in long double (direct DFT, dense filterbank).

std::vector<long double> NaiveDftPower(const std::vector<double>& x) {
  const size_t n = x.size();
  const long double pi = 3.141592653589793238462643383279502884L;
  std::vector<long double> cosines(n), sines(n), power(n / 2 + 1);
  for (size_t t = 0; t < n; ++t) {
    cosines[t] = std::cos(2 * pi * static_cast<long double>(t) / n);
    sines[t] = std::sin(2 * pi * static_cast<long double>(t) / n);
  }
  for (size_t k = 0; k <= n / 2; ++k) {
    long double re = 0, im = 0;
    for (size_t j = 0; j < n; ++j) {
      re += x[j] * cosines[(j * k) % n];
      im -= x[j] * sines[(j * k) % n];
    }
    power[k] = re * re + im * im;
  }
  return power;
}

std::vector<float> NaiveLogMel(const std::vector<float>& audio) {
  const qae::LogMelComputer& computer = qae::DefaultLogMelComputer();
  const std::vector<double> dense = computer.Filterbank().Dense();
  const int64_t n = static_cast<int64_t>(audio.size());
  const int64_t frames = n / 160;
  std::vector<float> out;
  for (int64_t f = 0; f < frames; ++f) {
    std::vector<double> frame(400);
    for (int64_t i = 0; i < 400; ++i) {
      frame[i] = audio[qae::ReflectIndex(f * 160 - 200 + i, n)] * computer.Window()[i];
    }
    const std::vector<long double> power = NaiveDftPower(frame);
    for (int m = 0; m < 128; ++m) {
      long double mel = 0;
      for (int k = 0; k < 201; ++k) mel += power[k] * dense[k * 128 + m];
      out.push_back(static_cast<float>(std::log10(std::max(mel, 1e-10L))));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

void TestRfft() {
  for (int n : {2, 4, 6, 10, 14, 16, 22, 30, 98, 400, 512}) {
    qae::Rfft rfft(n);
    Lcg rng(n);
    std::vector<double> x(n);
    double scale = 0;
    for (double& v : x) {
      v = rng.Uniform() - 0.5;
      scale += std::fabs(v);
    }
    std::vector<double> out(2 * rfft.NumBins()), power(rfft.NumBins()), work(rfft.WorkSize());
    rfft.Compute(x.data(), out.data(), work.data());
    rfft.ComputePower(x.data(), power.data(), work.data());
    const std::vector<long double> expected = NaiveDftPower(x);
    double max_err = 0;
    for (int k = 0; k < rfft.NumBins(); ++k) {
      const double p = out[2 * k] * out[2 * k] + out[2 * k + 1] * out[2 * k + 1];
      max_err = std::max(max_err, std::fabs(p - static_cast<double>(expected[k])));
      EXPECT(p == power[k]);
    }
    EXPECT(max_err <= 1e-13 * scale * scale);
    EXPECT(out[1] == 0.0 && out[2 * (n / 2) + 1] == 0.0);  // DC and Nyquist are real
  }
  // 400 = 2 * 200, 200 = 4 * 2 * 5 * 5: no padding to 512.
  EXPECT((qae::Rfft(400).Radices() == std::vector<int32_t>{4, 2, 5, 5}));
  // A pure cosine at bin 7 of 400: all of its energy in bin 7.
  qae::Rfft rfft(400);
  std::vector<double> x(400), out(402), work(rfft.WorkSize());
  for (int i = 0; i < 400; ++i) x[i] = std::cos(2 * 3.141592653589793 * 7 * i / 400);
  rfft.Compute(x.data(), out.data(), work.data());
  EXPECT_NEAR(out[14], 200.0, 1e-11);
  EXPECT_NEAR(out[15], 0.0, 1e-11);
  EXPECT_NEAR(out[16], 0.0, 1e-11);
  EXPECT(Throws([] { qae::Rfft bad(401); }));
}

void TestLog10() {
  Lcg rng(42);
  std::vector<double> x;
  for (int i = 0; i < 20001; ++i) x.push_back(std::pow(10.0, -300.0 + 600.0 * rng.Uniform()));
  for (int i = 0; i < 2000; ++i) x.push_back(0.5 + rng.Uniform() * 1.5);  // around 1 and sqrt(2)
  for (int p = -10; p <= 10; ++p) x.push_back(std::pow(10.0, p));
  for (double v : {1.0, 2.0, 0.5, 1.4142135623730951, 1.4142135623730949, 1e-10, 2.2250738585072014e-308,
                   1.7976931348623157e308, std::nextafter(1.0, 2.0), std::nextafter(1.0, 0.0)}) {
    x.push_back(v);
  }
  std::vector<double> y(x.size());
  qae::Log10Positive(x.data(), y.data(), static_cast<int64_t>(x.size()));
  double worst = 0;  // in units of the result's magnitude
  for (size_t i = 0; i < x.size(); ++i) {
    const long double ref = std::log10(static_cast<long double>(x[i]));
    const double scale = std::max(std::fabs(static_cast<double>(ref)), 1e-300);
    worst = std::max(worst, static_cast<double>(std::fabs(y[i] - ref)) / scale);
    double alone;  // one value alone takes the scalar path: it must give the same bits
    qae::Log10Positive(&x[i], &alone, 1);
    EXPECT(alone == y[i]);
  }
  EXPECT(worst <= 8 * 2.220446049250313e-16);
  double exact[2] = {1.0, 1e-10};
  qae::Log10Positive(exact, exact, 2);
  EXPECT(exact[0] == 0.0 && static_cast<float>(exact[1]) == -10.0f);
  double special[3] = {std::numeric_limits<double>::infinity(), std::nan(""), 1.0};
  qae::Log10Positive(special, special, 3);
  EXPECT(special[0] == std::numeric_limits<double>::infinity() && std::isnan(special[1]) && special[2] == 0.0);
  std::printf("log10: worst relative error %.3g over %zu values\n", worst, x.size());
}

void TestMelFilterbank() {
  // Values of runtime/features.py mel_filters() (numpy), printed with repr():
#if 0
  from qwen_asr_edge.features import mel_filters
  W = mel_filters(); print(W.shape, (W > 0).sum(), repr(W.sum()), repr(W[1, 0]), repr(W[9, 14]))
#endif
  const qae::MelFilterbank& fb = qae::DefaultLogMelComputer().Filterbank();
  EXPECT(fb.NumBins() == 201 && fb.NumMels() == 128);
  const std::vector<double> dense = fb.Dense();
  int nonzero = 0;
  double total = 0;
  for (double w : dense) {
    nonzero += w > 0;
    total += w;
  }
  EXPECT(nonzero == 394);
  EXPECT_NEAR(total, 3.1909855285406996, 1e-14);
  struct Entry {
    int k, m;
    double w;
  };
  for (const Entry& e : {Entry{1, 0, 0.012373986332636965}, Entry{9, 14, 0.025832774585748314},
                         Entry{53, 73, 0.018091931476831635}, Entry{61, 78, 0.004239172139493686},
                         Entry{100, 100, 0.0025783508354261797}, Entry{125, 108, 0.0041460578750377435},
                         Entry{166, 120, 0.004584965970021075}, Entry{199, 127, 0.001114280198753211},
                         Entry{200, 127, 0.0}, Entry{2, 1, 0.0}}) {
    EXPECT_NEAR(dense[e.k * 128 + e.m], e.w, 1e-13 * e.w);  // libm vs numpy exp/log: a few ulps
  }
  EXPECT_NEAR(qae::HzToMelSlaney(1000.0), 15.0, 1e-12);
  EXPECT_NEAR(qae::MelToHzSlaney(qae::HzToMelSlaney(5123.0)), 5123.0, 1e-9);
}

void TestReflect() {
  // numpy.pad(np.arange(5), 9, mode="reflect")
#if 0
  print(np.pad(np.arange(5), 9, mode="reflect"))  # [1 0 1 2 3 4 3 2 1 0 1 2 3 4 3 2 1 0 1 2 3 4 3]
#endif
  const int expected[] = {1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3};
  for (int i = -9; i < 14; ++i) EXPECT(qae::ReflectIndex(i, 5) == expected[i + 9]);
  EXPECT(qae::ReflectIndex(-3, 1) == 0);
}

void TestOfflineAgainstNaive() {
  for (int64_t n : {int64_t{160}, int64_t{200}, int64_t{201}, int64_t{1234}, int64_t{16000}}) {
    const std::vector<float> audio = Signal(n, 7);
    const std::vector<float> got = qae::ComputeLogMel(audio.data(), n);
    const std::vector<float> expected = NaiveLogMel(audio);
    EXPECT(got.size() == static_cast<size_t>(n / 160) * 128);
    double max_err = 0;
    for (size_t i = 0; i < got.size() && i < expected.size(); ++i) {
      max_err = std::max(max_err, static_cast<double>(std::fabs(got[i] - expected[i])));
    }
    EXPECT(max_err <= 2e-6);
  }
  // Silence: every mel value is exactly 0, so log10(1e-10) = -10 everywhere.
  const std::vector<float> zeros(4000, 0.0f);
  for (float v : qae::ComputeLogMel(zeros.data(), 4000)) EXPECT(v == -10.0f);
  // Too short for a frame.
  EXPECT(qae::ComputeLogMel(zeros.data(), 159).empty());
  EXPECT(qae::ComputeLogMel(zeros.data(), 0).empty());
}

void TestNormalize() {
  std::vector<float> x = {0.0f, -5.0f, -9.0f, -20.0f, 2.0f};
  qae::NormalizeLogMel(x.data(), 5);  // max 2, clamp at -6
  const float expected[] = {1.0f, -0.25f, -0.5f, -0.5f, 1.5f};
  for (int i = 0; i < 5; ++i) EXPECT(x[i] == expected[i]);
  EXPECT(qae::MaxLogMel(nullptr, 0) == -std::numeric_limits<float>::infinity());
  // Bit for bit the double formula float((max(double(x), m - 8) + 4) / 4) (numpy's), NaN included, for
  // random values around the threshold and every array position (vector body and scalar tail).
  Lcg rng(9);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (double max_value : {2.0, 1.2345678f * 1.0, -3.3333333f * 1.0, 0.1f * 1.0, 7.99999f * 1.0, 1e-30, 0.0,
                           static_cast<double>(nan), static_cast<double>(inf), -static_cast<double>(inf)}) {
    std::vector<float> in;
    for (int i = 0; i < 4001; ++i) in.push_back(static_cast<float>(max_value - 8.0 + 1e-3 * (rng.Uniform() - 0.5)));
    for (int i = 0; i < 4001; ++i) in.push_back(static_cast<float>(-12.0 + 16.0 * rng.Uniform()));
    for (float v : {nan, inf, -inf, 0.0f, -4.0f, 1e-30f, -1e-30f}) in.push_back(v);
    std::vector<float> out(in.size());
    qae::NormalizeLogMel(in.data(), out.data(), static_cast<int64_t>(in.size()), max_value);
    for (size_t i = 0; i < in.size(); ++i) {
      const double x = in[i], t = max_value - 8.0;
      const double clamped = (std::isnan(x) || std::isnan(t)) ? std::nan("") : std::max(x, t);
      const float expected = static_cast<float>((clamped + 4.0) / 4.0);
      EXPECT((std::isnan(expected) && std::isnan(out[i])) || std::memcmp(&expected, &out[i], sizeof(float)) == 0);
    }
  }
  std::vector<float> with_nan = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, nan, 0.0f};
  EXPECT(std::isnan(qae::MaxLogMel(with_nan.data(), 7)) && qae::MaxLogMel(with_nan.data(), 5) == 5.0f);
  EXPECT(qae::MaxLogMel(with_nan.data() + 6, 1) == 0.0f);
}

// Feeds audio in pieces whose sizes come from `next`, checks the readiness rule and the buffer bound
// after every piece, and returns the concatenated frames (popping some on the way).
template <typename NextSize>
std::vector<float> Stream(const std::vector<float>& audio, NextSize next) {
  qae::StreamingLogMel stream;
  std::vector<float> frames;
  int64_t pos = 0;
  const int64_t n = static_cast<int64_t>(audio.size());
  while (pos < n) {
    const int64_t piece = std::min<int64_t>(next(), n - pos);
    stream.AcceptWaveform(audio.data() + pos, piece);
    pos += piece;
    int64_t final_frames = 0;  // frames f < pos / 160 that no longer depend on the end
    while (final_frames < pos / 160 && stream.SamplesNeeded(final_frames) <= pos) ++final_frames;
    EXPECT(stream.NumFramesReady() == final_frames);
    EXPECT(stream.NumSamplesBuffered() < 400);
    EXPECT(stream.NumSamplesAccepted() == pos);
    if (stream.NumFramesReady() - stream.NumFramesPopped() >= 3) {  // consume all but one frame
      const int64_t take = stream.NumFramesReady() - stream.NumFramesPopped() - 1;
      for (int64_t f = stream.NumFramesPopped(); f < stream.NumFramesPopped() + take; ++f) {
        frames.insert(frames.end(), stream.GetFrame(f), stream.GetFrame(f) + 128);
      }
      stream.Pop(take);
    }
  }
  stream.InputFinished();
  stream.InputFinished();  // idempotent
  EXPECT(stream.NumFramesReady() == n / 160);
  for (int64_t f = stream.NumFramesPopped(); f < stream.NumFramesReady(); ++f) {
    frames.insert(frames.end(), stream.GetFrame(f), stream.GetFrame(f) + 128);
  }
  EXPECT(Throws([&] { stream.AcceptWaveform(audio.data(), 1); }));
  EXPECT(Throws([&] { stream.GetFrame(stream.NumFramesReady()); }));
  return frames;
}

void TestStreaming() {
  // Frame 0 needs sample 200 (its left padding mirrors samples 1..200), frame f >= 1 160 f + 200.
  qae::StreamingLogMel timing;
  EXPECT(timing.SamplesNeeded(0) == 201 && timing.SamplesNeeded(1) == 360 && timing.SamplesNeeded(2) == 520);
  for (int64_t n : {0, 1, 159, 160, 200, 201, 359, 360, 399, 400, 401, 519, 520, 16000, 16159, 23456}) {
    const std::vector<float> audio = Signal(n, 11);
    const std::vector<float> offline = qae::ComputeLogMel(audio.data(), n);
    Lcg rng(n);
    const auto ones = [] { return int64_t{1}; };
    const auto random = [&rng] { return int64_t{1} + rng.Next() % 3000; };
    const auto small = [&rng] { return int64_t{1} + rng.Next() % 200; };
    const auto hop = [] { return int64_t{160}; };
    const auto whole = [n] { return std::max<int64_t>(n, 1); };
    // Bit-for-bit (==, not a tolerance) for every piece pattern.
    EXPECT(Stream(audio, ones) == offline);
    EXPECT(Stream(audio, random) == offline);
    EXPECT(Stream(audio, small) == offline);
    EXPECT(Stream(audio, hop) == offline);
    EXPECT(Stream(audio, whole) == offline);
  }
}

void TestStreamingClamp() {
  // A signal that gets louder: the running max grows, so early frames are clamped less than offline.
  const int64_t n = 48000;
  std::vector<float> audio = Signal(n, 3);
  for (int64_t i = 0; i < n; ++i) audio[i] *= static_cast<float>(1e-4 + i / static_cast<double>(n));
  std::vector<float> offline = qae::ComputeLogMel(audio.data(), n);
  const float global_max = qae::MaxLogMel(offline.data(), static_cast<int64_t>(offline.size()));
  std::vector<float> normalized = offline;
  qae::NormalizeLogMel(normalized.data(), static_cast<int64_t>(normalized.size()));

  qae::StreamingLogMel stream;
  int64_t pos = 0, frame = 0, differing = 0;
  while (!stream.IsInputFinished()) {
    if (pos < n) {
      const int64_t piece = std::min<int64_t>(1000, n - pos);
      stream.AcceptWaveform(audio.data() + pos, piece);
      pos += piece;
    } else {
      stream.InputFinished();
    }
    for (; frame < stream.NumFramesReady(); ++frame) {
      const double running_max = stream.MaxLogMel();
      float out[128];
      qae::NormalizeLogMel(stream.GetFrame(frame), out, 128, running_max);
      for (int m = 0; m < 128; ++m) {
        const double diff = static_cast<double>(normalized[frame * 128 + m]) - out[m];
        EXPECT(diff >= 0.0 && diff <= (global_max - running_max) / 4.0 + 1e-6);
        if (offline[frame * 128 + m] >= global_max - 8.0) EXPECT(diff == 0.0);
        differing += diff != 0.0;
      }
    }
  }
  EXPECT(differing > 0);  // the test signal does exercise the clamp difference
}

// Every batch size 1..kMaxLanes, on whichever SIMD step this CPU takes (AVX-512: 8 frames per step,
// AVX2: 4, else 2), gives each frame the bits of the one-frame computation; so do frames far apart in
// level in one batch (a loud frame next to near-silence, and a NaN frame, which must not leak).
void TestLanes() {
  const qae::LogMelComputer& computer = qae::DefaultLogMelComputer();
  constexpr int kLanes = qae::LogMelComputer::kMaxLanes;
  std::vector<float> audio = Signal(400 * kLanes, 11);
  for (int i = 0; i < 400; ++i) audio[400 + i] *= 1e-6f;  // frame 1 about 120 dB below the others
  audio[400 * 3 + 17] = std::nanf("");                     // frame 3 holds a NaN
  std::vector<double> work(computer.WorkSize());
  std::vector<float> alone(128 * kLanes);
  for (int l = 0; l < kLanes; ++l) computer.Compute(audio.data() + 400 * l, alone.data() + 128 * l, work.data());
  for (int lanes = 1; lanes <= kLanes; ++lanes) {
    const float* frames[kLanes];
    float* outs[kLanes];
    std::vector<float> batch(128 * kLanes, 0.0f);
    for (int l = 0; l < lanes; ++l) {
      frames[l] = audio.data() + 400 * l;
      outs[l] = batch.data() + 128 * l;
    }
    computer.ComputeLanes(lanes, frames, outs, work.data());
    for (int i = 0; i < 128 * lanes; ++i) {
      const bool both_nan = std::isnan(batch[i]) && std::isnan(alone[i]);
      EXPECT(both_nan || std::memcmp(&batch[i], &alone[i], sizeof(float)) == 0);
    }
  }
  EXPECT(std::isnan(alone[128 * 3]) && !std::isnan(alone[128 * 2]) && !std::isnan(alone[128 * 4 % (128 * kLanes)]));
  std::printf("log-mel lanes: %s\n", qae::LogMelSimd().c_str());
}

void TestOptions() {
  qae::LogMelOptions opts;
  opts.n_fft = 401;
  EXPECT(Throws([&] { qae::LogMelComputer c(opts); }));
  opts = qae::LogMelOptions();
  opts.n_mels = 80;
  const std::vector<float> audio = Signal(8000, 5);
  EXPECT(qae::ComputeLogMel(audio.data(), 8000, opts).size() == 50u * 80u);
  EXPECT(qae::LogMelOptions().ToString().find("n_mels=128") != std::string::npos);
}

}  // namespace

int main() {
  TestRfft();
  TestLog10();
  TestMelFilterbank();
  TestReflect();
  TestOfflineAgainstNaive();
  TestLanes();
  TestNormalize();
  TestStreaming();
  TestStreamingClamp();
  TestOptions();
  return ReportChecks();
}
