// qwen-asr-edge Android demo: `core` is the SDK-free Kotlin part (also compiled on the desktop by
// tests/test_jni.py), `app` the Android app around it.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "qwen-asr-edge-demo"
include(":core", ":app")
