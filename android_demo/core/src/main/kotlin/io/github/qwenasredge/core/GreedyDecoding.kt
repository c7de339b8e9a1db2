// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * Greedy decoding over the decoder graph (runtime/decoding.py): the prompt is prefilled once and its K/V
 * becomes the shared prefix cache; each generated token is fed alone with its own growing cache, so a step
 * copies only the generated part. Stops at an EOS id (not included) or after maxNewTokens tokens. The
 * argmax takes the first of equal maxima (numpy's rule). Every cache made here is closed before returning.
 */
object GreedyDecoding {
    fun decode(graph: DecoderGraph, embeddings: EmbeddingTable, promptEmbeds: FloatArray, promptLength: Int,
               eosIds: IntArray, maxNewTokens: Int): IntArray {
        val tokens = ArrayList<Int>()
        val empty = graph.emptyCache()
        var prefix: DecoderCache? = null
        var past = empty
        try {
            val prefill = graph.run(promptEmbeds, promptLength, 0, empty, empty)
            prefix = prefill.present
            var logits = prefill.logits
            for (step in 0 until maxNewTokens) {
                val token = argmax(logits)
                if (token in eosIds) break
                tokens.add(token)
                if (step + 1 == maxNewTokens) break
                val next = graph.run(embeddings.rows(intArrayOf(token)), 1, promptLength + step, prefix, past)
                if (past !== empty) past.close()
                past = next.present
                logits = next.logits
            }
        } finally {
            if (past !== empty) past.close()
            prefix?.close()
            empty.close()
        }
        return tokens.toIntArray()
    }

    fun argmax(values: FloatArray): Int {
        var best = 0
        for (i in 1 until values.size) if (values[i] > values[best]) best = i
        return best
    }
}
