// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.demo

import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtSession
import android.system.Os
import java.io.File

/**
 * ONNX Runtime session creation for the app: intra-op threads, and optionally Qualcomm's QNN
 * execution-provider plugin (HTP, the Snapdragon NPU) ahead of the CPU EP. Nodes QNN cannot take (all of the
 * dynamic-shape graphs the exporter writes today) stay on the CPU, so the same model runs either way.
 */
class OrtSessions(private val threads: Int, private val qnnLibraryDir: File?) {
    private val env: OrtEnvironment = OrtEnvironment.getEnvironment()

    /** Whether sessions get the QNN EP (the app was built with -PqnnEp=true and a QNN device was found). */
    val usesQnn: Boolean = qnnLibraryDir != null && registerQnn(qnnLibraryDir)

    fun open(graph: File): OrtSession {
        val options = OrtSession.SessionOptions()
        try {
            options.setIntraOpNumThreads(threads)
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT)
            if (usesQnn) {
                val devices = env.epDevices.filter { it.name.contains("QNN", ignoreCase = true) }
                options.addExecutionProvider(devices, mapOf("backend_path" to "libQnnHtp.so"))
            }
            // By path, not bytes: the decoder's head reads the token table as external data beside the graph.
            return env.createSession(graph.path, options)
        } finally {
            options.close()
        }
    }

    private fun registerQnn(libraryDir: File): Boolean = synchronized(REGISTERED) {
        if (REGISTERED.isEmpty()) {
            // The HTP backend finds its DSP-side libraries through ADSP_LIBRARY_PATH.
            Os.setenv("ADSP_LIBRARY_PATH", "${libraryDir.path};/vendor/lib/rfsa/adsp;/system/lib/rfsa/adsp", true)
            env.registerExecutionProviderLibrary(QNN_REGISTRATION, File(libraryDir, QNN_PLUGIN).path)
            REGISTERED.add(QNN_REGISTRATION)
        }
        env.epDevices.any { it.name.contains("QNN", ignoreCase = true) }
    }

    private companion object {
        const val QNN_REGISTRATION = "qnn"
        const val QNN_PLUGIN = "libonnxruntime_providers_qnn.so"
        val REGISTERED = HashSet<String>()  // plugin libraries register once per process
    }
}
