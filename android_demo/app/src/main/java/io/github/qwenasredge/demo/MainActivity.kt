// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.demo

import android.Manifest
import android.app.Activity
import android.content.pm.PackageManager
import android.graphics.Color
import android.os.Bundle
import android.os.SystemClock
import android.text.SpannableStringBuilder
import android.text.Spanned
import android.text.style.ForegroundColorSpan
import android.widget.Button
import android.widget.ScrollView
import android.widget.TextView
import io.github.qwenasredge.core.OfficialStream
import io.github.qwenasredge.core.StreamUpdate
import io.github.qwenasredge.core.WavReader
import java.io.File
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Live transcription: the model directory `files/models/asr` (pushed with adb, see android_demo/README.md) is
 * opened with ONNX Runtime; Record streams the microphone through the official 2 s chunk policy
 * ([OfficialStream]) and shows the fixed text in black and the still-changing tail in grey; "Transcribe
 * test.wav" streams `files/test.wav` the same way, as fast as it decodes. All model work runs on one
 * background thread, in order.
 */
class MainActivity : Activity() {
    private val worker: ExecutorService = Executors.newSingleThreadExecutor()
    private lateinit var status: TextView
    private lateinit var transcript: TextView
    private lateinit var scroll: ScrollView
    private lateinit var recordButton: Button
    private lateinit var fileButton: Button
    private var engine: AsrEngine? = null  // used on the worker thread only
    private var stream: OfficialStream? = null  // used on the worker thread only
    private var recorder: MicrophoneRecorder? = null  // UI thread
    private var computeSeconds = 0.0  // worker thread
    private var samplesFed = 0L  // worker thread

    private val filesRoot: File get() = getExternalFilesDir(null) ?: filesDir

    /** files/models/asr in the app's internal storage when a model was copied there (adb run-as), else in its external storage (adb push). */
    private val modelDir: File
        get() {
            val internal = File(filesDir, "models/asr")
            return if (File(internal, "manifest.json").isFile) internal else File(filesRoot, "models/asr")
        }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        status = findViewById(R.id.status)
        transcript = findViewById(R.id.transcript)
        scroll = findViewById(R.id.transcript_scroll)
        recordButton = findViewById(R.id.record)
        fileButton = findViewById(R.id.transcribe_file)
        recordButton.setOnClickListener { if (recorder == null) startRecording() else stopRecording() }
        fileButton.setOnClickListener { transcribeTestWav() }
        loadModel()
    }

    override fun onDestroy() {
        recorder?.stop()
        recorder = null
        worker.execute { engine?.close() }
        worker.shutdown()
        super.onDestroy()
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        if (requestCode == RECORD_REQUEST && grantResults.firstOrNull() == PackageManager.PERMISSION_GRANTED) {
            startRecording()
        } else {
            status.text = getString(R.string.no_permission)
        }
    }

    private fun loadModel() {
        val dir = modelDir
        status.text = getString(R.string.loading, dir.path)
        val threads = minOf(4, Runtime.getRuntime().availableProcessors())
        val qnnLibraryDir = if (BuildConfig.QNN_EP_INCLUDED) File(applicationInfo.nativeLibraryDir) else null
        worker.execute {
            val message = try {
                if (!File(dir, "manifest.json").isFile) {
                    getString(R.string.no_model, dir.path)
                } else {
                    val opened = AsrEngine.open(dir, threads, qnnLibraryDir)
                    engine = opened
                    runOnUiThread {
                        recordButton.isEnabled = true
                        fileButton.isEnabled = true
                    }
                    getString(R.string.ready, dir.name, threads, if (opened.usesQnn) ", QNN" else "")
                }
            } catch (e: Exception) {
                getString(R.string.error, e.message ?: e.toString())
            }
            runOnUiThread { status.text = message }
        }
    }

    private fun startRecording() {
        if (checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(Manifest.permission.RECORD_AUDIO), RECORD_REQUEST)
            return
        }
        worker.execute { beginStream() }
        val mic = MicrophoneRecorder(
            onAudio = { samples -> worker.execute { feed(samples) } },
            onError = { message -> runOnUiThread { status.text = getString(R.string.error, message) } }
        )
        recorder = mic
        mic.start()
        recordButton.text = getString(R.string.stop)
        fileButton.isEnabled = false
        status.text = getString(R.string.listening)
    }

    private fun stopRecording() {
        recorder?.stop()
        recorder = null
        recordButton.text = getString(R.string.record)
        worker.execute { finishStream() }
    }

    private fun transcribeTestWav() {
        val wav = File(filesRoot, "test.wav")
        if (!wav.isFile) {
            status.text = getString(R.string.no_test_wav, wav.path)
            return
        }
        recordButton.isEnabled = false
        fileButton.isEnabled = false
        worker.execute {
            try {
                val audio = WavReader.read(wav)
                beginStream()
                var offset = 0
                while (offset < audio.size) {  // 100 ms pieces, as a microphone would deliver them
                    val length = minOf(1600, audio.size - offset)
                    feed(audio.copyOfRange(offset, offset + length))
                    offset += length
                }
                finishStream()
            } catch (e: Exception) {
                runOnUiThread { status.text = getString(R.string.error, e.message ?: e.toString()) }
            }
        }
    }

    // --- worker thread ----------------------------------------------------------------------------------

    private fun beginStream() {
        val recognizer = engine?.recognizer ?: return
        stream = OfficialStream(recognizer, recognizer.tokenizer)
        computeSeconds = 0.0
        samplesFed = 0
        runOnUiThread { transcript.text = "" }
    }

    private fun feed(samples: FloatArray) {
        val current = stream ?: return
        samplesFed += samples.size
        val started = SystemClock.elapsedRealtime()
        val update = try {
            current.feed(samples)
        } catch (e: Exception) {
            runOnUiThread { status.text = getString(R.string.error, e.message ?: e.toString()) }
            return
        }
        computeSeconds += (SystemClock.elapsedRealtime() - started) / 1000.0
        show(update)
    }

    private fun finishStream() {
        val current = stream ?: return
        stream = null
        val started = SystemClock.elapsedRealtime()
        val update = current.finish()
        computeSeconds += (SystemClock.elapsedRealtime() - started) / 1000.0
        show(update)
        val summary = getString(R.string.finished, update.chunks, samplesFed / 16000.0, computeSeconds)
        runOnUiThread {
            status.text = summary
            recordButton.isEnabled = true
            fileButton.isEnabled = true
        }
    }

    private fun show(update: StreamUpdate) {
        val text = SpannableStringBuilder(update.fixedText)
        val start = text.length
        text.append(update.partialText)
        text.setSpan(ForegroundColorSpan(Color.GRAY), start, text.length, Spanned.SPAN_EXCLUSIVE_EXCLUSIVE)
        runOnUiThread {
            transcript.text = text
            scroll.post { scroll.fullScroll(ScrollView.FOCUS_DOWN) }
        }
    }

    private companion object {
        const val RECORD_REQUEST = 1
    }
}
