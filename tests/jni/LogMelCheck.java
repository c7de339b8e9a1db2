// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Desktop check of the JNI log-mel (cpp_ext/jni), run by tests/test_jni.py:
//   java -Djava.library.path=LIB_DIR -cp CLASSES LogMelCheck AUDIO.wav OUT_DIR SEED
// Reads a 16 kHz mono PCM16 WAV, writes little-endian float32 files for Python to compare:
//   spectrogram.f32  LogMel.spectrogram  [128][T] mel-major
//   power.f32        LogMel.power        [128][T] mel-major
//   streamed.f32     StreamingLogMel fed in random pieces (SEED), unclamped frames [T][128] frame-major
// and prints one "PASS name" / "FAIL name: detail" line per API contract check (edge sizes, exceptions,
// handle lifetime).

import io.github.qwenasredge.LogMel;
import io.github.qwenasredge.StreamingLogMel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;

public final class LogMelCheck {
  private LogMelCheck() {}

  public static void main(String[] args) throws IOException {
    float[] audio = readPcm16MonoWav(Paths.get(args[0]));
    Path out = Paths.get(args[1]);
    Random random = new Random(Long.parseLong(args[2]));

    writeFloats(out.resolve("spectrogram.f32"), LogMel.spectrogram(audio));
    writeFloats(out.resolve("power.f32"), LogMel.power(audio));
    writeFloats(out.resolve("streamed.f32"), streamInRandomPieces(audio, random));
    System.out.println("frames " + LogMel.numFrames(audio.length));
    System.out.println("simd " + LogMel.simd());

    check("empty audio has no frames", () -> LogMel.spectrogram(new float[0]).length == 0);
    check("159 samples have no frame", () -> LogMel.power(new float[159]).length == 0);
    check("160 samples have one frame", () -> LogMel.spectrogram(new float[160]).length == LogMel.N_MELS);
    checkThrows("null audio", IllegalArgumentException.class, () -> LogMel.spectrogram(null));
    checkThrows("NaN sample", IllegalArgumentException.class, () -> LogMel.power(new float[] {0f, Float.NaN}));
    checkThrows("infinite sample in a stream", IllegalArgumentException.class, () -> {
      try (StreamingLogMel stream = new StreamingLogMel()) {
        stream.acceptWaveform(new float[] {Float.POSITIVE_INFINITY});
      }
    });
    checkThrows("range outside the array", IllegalArgumentException.class, () -> {
      try (StreamingLogMel stream = new StreamingLogMel()) {
        stream.acceptWaveform(new float[10], 5, 6);
      }
    });
    checkThrows("negative maxFrames", IllegalArgumentException.class, () -> {
      try (StreamingLogMel stream = new StreamingLogMel()) {
        stream.popFrames(-1, false);
      }
    });
    checkThrows("audio after inputFinished", IllegalStateException.class, () -> {
      try (StreamingLogMel stream = new StreamingLogMel()) {
        stream.inputFinished();
        stream.acceptWaveform(new float[160]);
      }
    });
    checkThrows("use after close", IllegalStateException.class, () -> {
      StreamingLogMel stream = new StreamingLogMel();
      stream.close();
      stream.numFramesReady();
    });
    check("close twice", () -> {
      StreamingLogMel stream = new StreamingLogMel();
      stream.close();
      stream.close();
      return true;
    });
    check("many streams created and closed", () -> {
      for (int i = 0; i < 10000; i++) {
        try (StreamingLogMel stream = new StreamingLogMel()) {
          stream.acceptWaveform(new float[400]);
        }
      }
      return true;
    });
  }

  /** Unclamped frames [T][128] of audio fed in random pieces (some empty) through offset/length views. */
  private static float[] streamInRandomPieces(float[] audio, Random random) {
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    try (StreamingLogMel stream = new StreamingLogMel()) {
      int position = 0;
      while (position < audio.length) {
        int length = Math.min(audio.length - position, random.nextInt(4) == 0 ? 0 : random.nextInt(3000));
        stream.acceptWaveform(audio, position, length);
        position += length;
        append(frames, stream.popFrames(random.nextInt(40), false));
      }
      stream.inputFinished();
      append(frames, stream.popFrames());
      check("stream counts", () -> stream.numFramesReady() == LogMel.numFrames(audio.length)
          && stream.numFramesPopped() == stream.numFramesReady() && stream.isInputFinished());
    }
    return toFloats(frames.toByteArray());
  }

  private interface Condition {
    boolean holds() throws Exception;
  }

  private interface Action {
    void run() throws Exception;
  }

  private static void check(String name, Condition condition) {
    try {
      System.out.println(condition.holds() ? "PASS " + name : "FAIL " + name + ": condition is false");
    } catch (Exception e) {
      System.out.println("FAIL " + name + ": " + e);
    }
  }

  private static void checkThrows(String name, Class<? extends Exception> expected, Action action) {
    try {
      action.run();
      System.out.println("FAIL " + name + ": no exception");
    } catch (Exception e) {
      boolean ok = expected.isInstance(e) && e.getMessage() != null && !e.getMessage().isEmpty();
      System.out.println((ok ? "PASS " : "FAIL ") + name + ": " + e);
    }
  }

  /** Samples / 32768 of a canonical 16 kHz mono 16-bit PCM WAV (the fmt and data chunks; others skipped). */
  static float[] readPcm16MonoWav(Path path) throws IOException {
    ByteBuffer wav = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
    if (wav.getInt(0) != 0x46464952 || wav.getInt(8) != 0x45564157) throw new IOException(path + ": not RIFF/WAVE");
    int position = 12;
    boolean pcm16Mono16k = false;
    while (position + 8 <= wav.limit()) {
      int id = wav.getInt(position);
      int size = wav.getInt(position + 4);
      if (id == 0x20746d66) {  // "fmt "
        pcm16Mono16k = wav.getShort(position + 8) == 1 && wav.getShort(position + 10) == 1
            && wav.getInt(position + 12) == LogMel.SAMPLE_RATE && wav.getShort(position + 22) == 16;
      } else if (id == 0x61746164) {  // "data"
        if (!pcm16Mono16k) throw new IOException(path + ": not 16 kHz mono PCM16");
        float[] samples = new float[Math.min(size, wav.limit() - position - 8) / 2];
        for (int i = 0; i < samples.length; i++) samples[i] = wav.getShort(position + 8 + 2 * i) / 32768f;
        return samples;
      }
      position += 8 + size + (size & 1);
    }
    throw new IOException(path + ": no data chunk");
  }

  private static void append(ByteArrayOutputStream out, float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    out.write(bytes.array(), 0, bytes.capacity());
  }

  private static float[] toFloats(byte[] bytes) {
    float[] values = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }

  private static void writeFloats(Path path, float[] values) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    append(out, values);
    Files.write(path, out.toByteArray());
  }
}
