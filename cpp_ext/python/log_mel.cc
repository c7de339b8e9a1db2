// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Bindings of core/log_mel.h. Feature arrays are [n_mels, T] float32 in Fortran order, i.e. the
// core's frame-major buffer: numpy allocates it and the core writes into it, no copy.

#include "python/log_mel.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "core/log_mel.h"

namespace py = pybind11;

namespace qae {
namespace {

using AudioArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using FeatureArray = py::array_t<float, py::array::f_style>;

py::array Features(const AudioArray& audio, const std::optional<LogMelOptions>& options, bool normalize) {
  if (audio.ndim() != 1) {
    throw py::value_error("log-mel: audio must be a 1-D array of mono samples, got " +
                          std::to_string(audio.ndim()) + " dimensions");
  }
  std::unique_ptr<LogMelComputer> own;
  const LogMelComputer* computer = &DefaultLogMelComputer();
  if (options) {
    own = std::make_unique<LogMelComputer>(*options);
    computer = own.get();
  }
  const int64_t n = audio.shape(0);
  const int64_t num_frames = NumFrames(n, computer->Options());
  const int64_t dim = computer->Dim();
  FeatureArray out({static_cast<py::ssize_t>(dim), static_cast<py::ssize_t>(num_frames)});
  const float* samples = audio.data();
  float* features = out.mutable_data();
  {
    py::gil_scoped_release release;
    ComputeLogMel(*computer, samples, n, features);
    if (normalize) NormalizeLogMel(features, num_frames * dim);
  }
  return std::move(out);
}

}  // namespace

void PybindLogMel(py::module_& m) {
  py::class_<LogMelOptions>(m, "LogMelOptions", "Feature options; the defaults are Qwen3-ASR's (Whisper, 128 mels).")
      .def(py::init([](int32_t sample_rate, int32_t n_fft, int32_t hop_length, int32_t n_mels, double log_floor) {
             LogMelOptions opts;
             opts.sample_rate = sample_rate;
             opts.n_fft = n_fft;
             opts.hop_length = hop_length;
             opts.n_mels = n_mels;
             opts.log_floor = log_floor;
             opts.Validate();
             return opts;
           }),
           py::arg("sample_rate") = 16000, py::arg("n_fft") = 400, py::arg("hop_length") = 160,
           py::arg("n_mels") = 128, py::arg("log_floor") = 1e-10)
      .def_readwrite("sample_rate", &LogMelOptions::sample_rate)
      .def_readwrite("n_fft", &LogMelOptions::n_fft)
      .def_readwrite("hop_length", &LogMelOptions::hop_length)
      .def_readwrite("n_mels", &LogMelOptions::n_mels)
      .def_readwrite("log_floor", &LogMelOptions::log_floor)
      .def("__repr__", &LogMelOptions::ToString);

  m.def(
      "log_mel_power",
      [](const AudioArray& audio, const std::optional<LogMelOptions>& options) {
        return Features(audio, options, false);
      },
      py::arg("audio"), py::arg("options") = py::none(),
      "Unclamped log10 mel power, float32 [n_mels, len(audio) // hop] (Fortran order), of 16 kHz mono audio.");
  m.def(
      "log_mel_spectrogram",
      [](const AudioArray& audio, const std::optional<LogMelOptions>& options) {
        return Features(audio, options, true);
      },
      py::arg("audio"), py::arg("options") = py::none(),
      "Model input features: log_mel_power normalised with (max(x, max(x) - 8) + 4) / 4.");
  m.def("log_mel_simd", &LogMelSimd,
        "Which SIMD step computes the log-mel frames on this CPU, e.g. 'avx2, 4 frames per step' (chosen at run time).");
  m.def(
      "mel_filters",
      [](int32_t n_mels, int32_t n_fft, int32_t sample_rate) {
        const MelFilterbank filterbank(n_mels, n_fft, sample_rate);
        py::array_t<double> out({static_cast<py::ssize_t>(filterbank.NumBins()), static_cast<py::ssize_t>(n_mels)});
        const std::vector<double> dense = filterbank.Dense();
        std::copy(dense.begin(), dense.end(), out.mutable_data());
        return out;
      },
      py::arg("n_mels") = 128, py::arg("n_fft") = 400, py::arg("sample_rate") = 16000,
      "The Slaney mel filterbank the core uses, float64 [n_fft // 2 + 1, n_mels].");
}

}  // namespace qae
