// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.demo

import android.annotation.SuppressLint
import android.media.AudioFormat
import android.media.AudioRecord
import android.media.MediaRecorder
import io.github.qwenasredge.core.WavReader

/**
 * Records 16 kHz mono 16-bit PCM from the microphone on its own thread and hands every read (about 100 ms)
 * to onAudio as float samples (s / 32768). The caller holds the RECORD_AUDIO permission. start/stop from
 * one thread (the UI thread); stop() returns after the last onAudio call.
 */
class MicrophoneRecorder(private val onAudio: (FloatArray) -> Unit, private val onError: (String) -> Unit) {
    @Volatile
    private var running = false
    private var thread: Thread? = null

    @SuppressLint("MissingPermission")
    fun start() {
        if (thread != null) return
        val minBytes = AudioRecord.getMinBufferSize(SAMPLE_RATE, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT)
        if (minBytes <= 0) {
            onError("this device cannot record 16 kHz mono 16-bit audio")
            return
        }
        val record = AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION, SAMPLE_RATE, AudioFormat.CHANNEL_IN_MONO,
            AudioFormat.ENCODING_PCM_16BIT, maxOf(minBytes, 2 * SAMPLE_RATE))
        if (record.state != AudioRecord.STATE_INITIALIZED) {
            record.release()
            onError("the microphone could not be opened")
            return
        }
        running = true
        thread = Thread({ readLoop(record) }, "microphone").also { it.start() }
    }

    fun stop() {
        running = false
        thread?.join()
        thread = null
    }

    private fun readLoop(record: AudioRecord) {
        val buffer = ShortArray(SAMPLE_RATE / 10)
        try {
            record.startRecording()
            while (running) {
                val count = record.read(buffer, 0, buffer.size)
                if (count < 0) {
                    onError("AudioRecord.read failed ($count)")
                    break
                }
                if (count > 0) onAudio(WavReader.pcm16ToFloat(buffer, count))
            }
        } finally {
            if (record.recordingState == AudioRecord.RECORDSTATE_RECORDING) record.stop()
            record.release()
        }
    }

    private companion object {
        const val SAMPLE_RATE = 16000
    }
}
