// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge;

/**
 * Whisper log-mel features of 16 kHz mono audio, computed by the C++ core (cpp_ext/core) through JNI:
 * the same values, bit for bit, as the Python package's native {@code qwen_asr_edge.features}.
 *
 * <p>Results are {@code [N_MELS][numFrames(samples.length)]} row-major: mel bin {@code m} of frame
 * {@code t} is at {@code m * T + t}, i.e. the C-order layout of the {@code [128, T]} array that
 * {@code qwen_asr_edge.features.log_mel_spectrogram} returns, and of the encoder's input.
 *
 * <p>Bad input (a null array, a NaN or infinite sample) throws {@link IllegalArgumentException}.
 * Thread-safe: the calls share no state.
 */
public final class LogMel {
  public static final int SAMPLE_RATE = 16000;
  public static final int HOP_LENGTH = 160;
  public static final int N_MELS = 128;

  private LogMel() {}

  /** Model input features: the log-mel clamped to (max - 8) and scaled by (x + 4) / 4. */
  public static float[] spectrogram(float[] samples) {
    NativeLibrary.load();
    return nativeLogMel(samples, true);
  }

  /** Unclamped log10 mel power, the values before the per-utterance normalisation. */
  public static float[] power(float[] samples) {
    NativeLibrary.load();
    return nativeLogMel(samples, false);
  }

  /** Frames of a whole utterance of numSamples samples: numSamples / 160 (the last STFT frame is dropped). */
  public static int numFrames(int numSamples) {
    return Math.max(0, numSamples) / HOP_LENGTH;
  }

  /** Which SIMD step computes the frames on this CPU, e.g. "neon, 2 frames per step". */
  public static String simd() {
    NativeLibrary.load();
    return nativeSimd();
  }

  private static native float[] nativeLogMel(float[] samples, boolean normalize);

  private static native String nativeSimd();
}
