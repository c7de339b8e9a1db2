// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Bindings of core/streaming_log_mel.h. Frames come back as float32 [n_mels, k] (Fortran order,
// like the offline features), copied out of the stream: a stream holds only a few frames, and the
// copy keeps the arrays valid after the stream moves on.

#include "python/streaming_log_mel.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <string>

#include "core/streaming_log_mel.h"

namespace py = pybind11;

namespace qae {
namespace {

using AudioArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Frames [first, first + count) of the stream as [dim, count], normalised with the running max
// if asked.
py::array Frames(const StreamingLogMel& stream, int64_t first, int64_t count, bool normalized) {
  const int64_t dim = stream.Dim();
  py::array_t<float, py::array::f_style> out({static_cast<py::ssize_t>(dim), static_cast<py::ssize_t>(count)});
  float* dst = out.mutable_data();
  for (int64_t i = 0; i < count; ++i) {
    const float* frame = stream.GetFrame(first + i);
    if (normalized) {
      NormalizeLogMel(frame, dst + i * dim, dim, stream.MaxLogMel());
    } else {
      std::memcpy(dst + i * dim, frame, sizeof(float) * dim);
    }
  }
  return std::move(out);
}

}  // namespace

void PybindStreamingLogMel(py::module_& m) {
  py::class_<StreamingLogMel>(m, "StreamingLogMel", R"doc(
Streaming log-mel: feed audio in pieces of any size; each frame is emitted once it is final and
equals the offline log_mel_power frame bit for bit. Frame f covers samples [160 f - 200, 160 f + 200):
frame 0 is final after 201 samples, frame f >= 1 after 160 f + 200; frames that need the right-edge
padding come with input_finished(). Fewer than 400 samples are kept between calls.

Frames are unclamped log10 mel values. To normalise a frame use the running max (max_log_mel, or
normalized=True): it differs from the offline features only by
0 <= offline - streaming <= (global_max - running_max) / 4, and only where a value is more than
8 (80 dB) below the global max. Not thread-safe: one stream per thread.
)doc")
      .def(py::init<const LogMelOptions&>(), py::arg("options") = LogMelOptions())
      .def(
          "accept_waveform",
          [](StreamingLogMel& self, const AudioArray& samples) {
            if (samples.ndim() != 1) {
              throw py::value_error("streaming log-mel: samples must be a 1-D array, got " +
                                    std::to_string(samples.ndim()) + " dimensions");
            }
            const float* data = samples.data();
            const int64_t n = samples.shape(0);
            py::gil_scoped_release release;
            self.AcceptWaveform(data, n);
          },
          py::arg("samples"), "Append 16 kHz mono samples (float32; other dtypes are converted).")
      .def("input_finished", &StreamingLogMel::InputFinished, py::call_guard<py::gil_scoped_release>(),
           "End of the stream: compute the last frames (reflect-padding the tail). Idempotent.")
      .def_property_readonly("is_input_finished", &StreamingLogMel::IsInputFinished)
      .def_property_readonly("num_frames_ready", &StreamingLogMel::NumFramesReady,
                             "Frames computed so far (absolute; popping does not lower it).")
      .def_property_readonly("num_frames_popped", &StreamingLogMel::NumFramesPopped)
      .def_property_readonly("num_samples_accepted", &StreamingLogMel::NumSamplesAccepted)
      .def_property_readonly("num_samples_buffered", &StreamingLogMel::NumSamplesBuffered)
      .def_property_readonly("max_log_mel", &StreamingLogMel::MaxLogMel,
                             "Running max of all values computed so far (-inf before the first frame).")
      .def_property_readonly("dim", &StreamingLogMel::Dim)
      .def_property_readonly("options", &StreamingLogMel::Options)
      .def(
          "get_frame",
          [](const StreamingLogMel& self, int64_t frame) {
            if (frame < self.NumFramesPopped() || frame >= self.NumFramesReady()) {
              throw py::index_error("streaming log-mel: frame " + std::to_string(frame) + " is not in [" +
                                    std::to_string(self.NumFramesPopped()) + ", " +
                                    std::to_string(self.NumFramesReady()) + ")");
            }
            const float* data = self.GetFrame(frame);
            return py::array_t<float>(self.Dim(), data);
          },
          py::arg("frame"), "One kept frame (absolute index) as float32 [n_mels].")
      .def(
          "get_frames",
          [](const StreamingLogMel& self, bool normalized) {
            return Frames(self, self.NumFramesPopped(), self.NumFramesReady() - self.NumFramesPopped(), normalized);
          },
          py::arg("normalized") = false, "All kept (not yet popped) frames as float32 [n_mels, k].")
      .def(
          "pop_frames",
          [](StreamingLogMel& self, std::optional<int64_t> max_frames, bool normalized) {
            int64_t count = self.NumFramesReady() - self.NumFramesPopped();
            if (max_frames) {
              if (*max_frames < 0) throw py::value_error("streaming log-mel: max_frames must be >= 0");
              count = std::min(count, *max_frames);
            }
            py::array out = Frames(self, self.NumFramesPopped(), count, normalized);
            self.Pop(count);
            return out;
          },
          py::arg("max_frames") = py::none(), py::arg("normalized") = false,
          "Remove and return the oldest kept frames (all by default) as float32 [n_mels, k].")
      .def("pop", &StreamingLogMel::Pop, py::arg("num_frames"), "Discard the oldest num_frames kept frames.");
}

}  // namespace qae
