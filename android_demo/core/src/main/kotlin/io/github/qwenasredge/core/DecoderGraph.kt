// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import java.io.Closeable

/** The keys and values of `length` decoder positions (all layers), owned by its holder: close() frees them. */
interface DecoderCache : Closeable {
    val length: Int
}

/** One decoder call's result: the last position's logits [V] and the present cache (its caller closes it). */
class DecoderOutput(val logits: FloatArray, val present: DecoderCache)

/**
 * The exported decoder graph (manifest `decoder`; runtime/decoder.py), batch 1: `inputs_embeds` [1, S, H]
 * and `position_ids` [1, S]; a shared prefix cache (`prefix.i.key/value`) and a per-hypothesis cache
 * (`past.i.key/value`), both [1, kv, P, hd]; new tokens attend to prefix, then past, then themselves.
 * Returns `logits` of the last position and `present.i.key/value` = past ++ new.
 */
interface DecoderGraph {
    /** A cache of length 0 (for the prefill's prefix and past). */
    fun emptyCache(): DecoderCache

    /** embeds: [length, H] row-major at positions firstPosition until firstPosition + length. */
    fun run(embeds: FloatArray, length: Int, firstPosition: Int, prefix: DecoderCache, past: DecoderCache): DecoderOutput
}
