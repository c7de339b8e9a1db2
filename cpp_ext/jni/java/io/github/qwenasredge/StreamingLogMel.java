// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge;

/**
 * Streaming log-mel over the C++ core's {@code qae::StreamingLogMel} (cpp_ext/core/streaming_log_mel.h):
 * feed 16 kHz mono audio in pieces of any size; each frame comes out as soon as it is final, equal bit for
 * bit to the offline {@link LogMel#power} frame of the whole signal. Frame f covers samples
 * [160 f - 200, 160 f + 200); frames that need the right-edge padding come with {@link #inputFinished()}.
 *
 * <p>Popped frames are frame-major {@code [k][N_MELS]} (a frame's 128 values contiguous), unclamped log10
 * mel values unless {@code normalized}, which applies {@code (max(x, m - 8) + 4) / 4} with the running
 * max {@code m = maxLogMel()}: at most {@code (final max - m) / 4} below the offline features, and only where
 * a value is 80 dB below the loudest bin.
 *
 * <p>Owns native memory: call {@link #close()} (try-with-resources, Kotlin {@code use}); there is no
 * finalizer. Methods are synchronized, so close() from another thread is safe; any call after close()
 * throws {@link IllegalStateException}, as does audio after {@link #inputFinished()}. Bad arguments (null
 * array, range outside the array, NaN or infinite samples, negative counts) throw
 * {@link IllegalArgumentException}.
 */
public final class StreamingLogMel implements AutoCloseable {
  private long handle;

  public StreamingLogMel() {
    NativeLibrary.load();
    handle = nativeCreate();
  }

  /** Appends all of samples. */
  public synchronized void acceptWaveform(float[] samples) {
    nativeAcceptWaveform(handle, samples, 0, samples == null ? 0 : samples.length);
  }

  /** Appends samples[offset, offset + length). */
  public synchronized void acceptWaveform(float[] samples, int offset, int length) {
    nativeAcceptWaveform(handle, samples, offset, length);
  }

  /** Ends the stream: computes the last frames (reflect-padding the tail). Idempotent. */
  public synchronized void inputFinished() {
    nativeInputFinished(handle);
  }

  public synchronized boolean isInputFinished() {
    return nativeIsInputFinished(handle);
  }

  /** Frames computed so far, an absolute count (popping does not lower it). */
  public synchronized long numFramesReady() {
    return nativeNumFramesReady(handle);
  }

  /** Frames removed by {@link #popFrames}; numFramesReady() - numFramesPopped() are waiting. */
  public synchronized long numFramesPopped() {
    return nativeNumFramesPopped(handle);
  }

  /** Running max of every value computed so far (negative infinity before the first frame). */
  public synchronized float maxLogMel() {
    return nativeMaxLogMel(handle);
  }

  /** Removes and returns the oldest min(maxFrames, waiting) frames, frame-major [k][N_MELS]. */
  public synchronized float[] popFrames(int maxFrames, boolean normalized) {
    return nativePopFrames(handle, maxFrames, normalized);
  }

  /** Removes and returns every waiting frame, unclamped. */
  public synchronized float[] popFrames() {
    return nativePopFrames(handle, Integer.MAX_VALUE, false);
  }

  /** Frees the native stream; later calls throw IllegalStateException. Idempotent. */
  @Override
  public synchronized void close() {
    long freed = handle;
    handle = 0;
    nativeDestroy(freed);
  }

  private static native long nativeCreate();

  private static native void nativeDestroy(long handle);

  private static native void nativeAcceptWaveform(long handle, float[] samples, int offset, int length);

  private static native void nativeInputFinished(long handle);

  private static native boolean nativeIsInputFinished(long handle);

  private static native long nativeNumFramesReady(long handle);

  private static native long nativeNumFramesPopped(long handle);

  private static native float nativeMaxLogMel(long handle);

  private static native float[] nativePopFrames(long handle, int maxFrames, boolean normalized);
}
