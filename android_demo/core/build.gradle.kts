// The app's SDK-free part: plain Kotlin/JVM (no android.*, no ai.onnxruntime.*), plus the Java face of the JNI
// library (cpp_ext/jni/java: io.github.qwenasredge.LogMel, StreamingLogMel). The native library itself is built
// by the app module's CMake build. tests/test_jni.py compiles these same sources with kotlinc on the desktop.
plugins {
    id("org.jetbrains.kotlin.jvm")
}

sourceSets {
    main {
        java.srcDir("../../cpp_ext/jni/java")
    }
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

kotlin {
    compilerOptions {
        jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17)
    }
}
