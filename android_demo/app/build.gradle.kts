plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

// -PqnnEp=true adds Qualcomm's QNN execution-provider plugin and runtime (Snapdragon NPU); see gradle.properties.
val qnnEp = providers.gradleProperty("qnnEp").map { it.toBoolean() }.getOrElse(false)
val ortVersion = providers.gradleProperty(if (qnnEp) "qnnOrtVersion" else "ortVersion").get()

android {
    namespace = "io.github.qwenasredge.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "io.github.qwenasredge.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            abiFilters += listOf("arm64-v8a", "x86_64")  // phones; x86_64 for the emulator
        }
        externalNativeBuild {
            cmake {
                arguments += "-DQWEN_ASR_EDGE_BUILD_TESTS=OFF"  // the core and JNI targets compile with -O3 in every variant
                targets += "qwen_asr_edge_jni"
            }
        }
        buildConfigField("boolean", "QNN_EP_INCLUDED", qnnEp.toString())
    }

    // The C++ core and its JNI layer, from the repository's cpp_ext/ (libqwen_asr_edge_jni.so).
    externalNativeBuild {
        cmake {
            path = file("../../cpp_ext/CMakeLists.txt")
            version = "3.22.1"
        }
    }

    buildFeatures {
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // The QNN HTP backend loads its skel libraries from the file system: keep .so files extracted.
            useLegacyPackaging = qnnEp
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17)
    }
}

dependencies {
    implementation(project(":core"))
    implementation("com.microsoft.onnxruntime:onnxruntime-android:$ortVersion")
    if (qnnEp) {
        implementation("com.qualcomm.qti:onnxruntime-android-qnn:${providers.gradleProperty("qnnEpVersion").get()}")
        implementation("com.qualcomm.qti:qnn-runtime:${providers.gradleProperty("qnnRuntimeVersion").get()}")
    }
}
