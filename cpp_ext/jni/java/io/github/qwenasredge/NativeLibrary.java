// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge;

/**
 * Loads {@code libqwen_asr_edge_jni} (cpp_ext/jni built with cpp_ext/core) once per class loader.
 *
 * <p>On Android the library is packaged in the APK by the app's CMake build; on a desktop JVM pass
 * {@code -Djava.library.path=DIR} with the directory holding the library.
 */
final class NativeLibrary {
  static final String NAME = "qwen_asr_edge_jni";

  static {
    System.loadLibrary(NAME);
  }

  private NativeLibrary() {}

  /** Ensures the library is loaded (the first call runs the static initializer). */
  static void load() {}
}
