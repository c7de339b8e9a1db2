// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import java.io.ByteArrayOutputStream
import java.io.File
import java.text.Normalizer
import java.util.regex.Pattern

/**
 * The byte-level BPE tokenizer of a Qwen3 `tokenizer.json`, what the ASR prompt and the transcript need
 * (the Python runtime uses the `tokenizers` library; tests/test_jni.py checks that both give the same ids
 * and text).
 *
 * encode: the text is cut at added tokens (`<|im_start|>`, `<asr_text>`, ...: the longest one starting at
 * the leftmost position); every other stretch is NFC-normalised, split by the pre-tokenizer regex (matches
 * and the gaps between them are pieces), each piece's UTF-8 bytes written in [ByteLevelAlphabet] and merged
 * by BPE (always the adjacent pair of lowest merge rank), and the symbols looked up in the vocabulary.
 *
 * decode: ids to token strings (added tokens marked special skipped on request), each token's characters
 * back to bytes (a token with a character outside the alphabet contributes its UTF-8 bytes), the bytes read
 * as UTF-8 with U+FFFD for malformed sequences (e.g. a character split between two decode calls).
 *
 * Only the tokenizer.json shape Qwen uses is accepted (NFC or no normalizer; Split + ByteLevel
 * pre-tokenizer; BPE without dropout, unknown token or byte fallback; ByteLevel decoder); anything else
 * throws IllegalArgumentException when loading. Thread-safe (the cache of encoded pieces is synchronized).
 */
class BpeTokenizer private constructor(
    vocab: Map<String, Int>,  // only for the byte ids: the tokens array and the merges cover the rest
    private val tokens: Array<String?>,
    private val special: BooleanArray,
    /** (left id shl 32 or right id) -> (rank shl 32 or merged id) */
    private val merges: HashMap<Long, Long>,
    private val added: List<AddedToken>,
    private val split: Pattern,
    private val nfc: Boolean
) {
    private class AddedToken(val content: String, val id: Int)

    private val byteIds = IntArray(256) { b ->
        vocab[ByteLevelAlphabet.charOf(b).toString()] ?: throw IllegalArgumentException("tokenizer.json: byte $b is not in the vocabulary")
    }
    private val addedFirstChars: Set<Char> = added.map { it.content[0] }.toSet()
    private val pieceCache = HashMap<String, IntArray>()

    fun encode(text: String): IntArray {
        val ids = ArrayList<Int>()
        var start = 0
        var i = 0
        while (i < text.length) {
            val token = if (text[i] in addedFirstChars) addedTokenAt(text, i) else null
            if (token == null) {
                i++
                continue
            }
            encodeOrdinary(text.substring(start, i), ids)
            ids.add(token.id)
            i += token.content.length
            start = i
        }
        encodeOrdinary(text.substring(start), ids)
        return ids.toIntArray()
    }

    fun decode(ids: IntArray, skipSpecialTokens: Boolean = true): String {
        val bytes = ByteArrayOutputStream()
        for (id in ids) {
            val token = (if (id in tokens.indices) tokens[id] else null) ?: throw IllegalArgumentException("unknown token id $id")
            if (skipSpecialTokens && special[id]) continue
            val tokenBytes = ByteArray(token.length)
            var inAlphabet = true
            for (k in token.indices) {
                val b = ByteLevelAlphabet.byteOf(token[k])
                if (b < 0) {
                    inAlphabet = false
                    break
                }
                tokenBytes[k] = b.toByte()
            }
            val out = if (inAlphabet) tokenBytes else token.toByteArray(Charsets.UTF_8)
            bytes.write(out, 0, out.size)
        }
        return String(bytes.toByteArray(), Charsets.UTF_8)
    }

    private fun addedTokenAt(text: String, at: Int): AddedToken? {
        var best: AddedToken? = null
        for (token in added) {
            if ((best == null || token.content.length > best.content.length) && text.startsWith(token.content, at)) best = token
        }
        return best
    }

    private fun encodeOrdinary(text: String, ids: MutableList<Int>) {
        if (text.isEmpty()) return
        val normalized = if (nfc) Normalizer.normalize(text, Normalizer.Form.NFC) else text
        val matcher = split.matcher(normalized)
        var end = 0
        while (matcher.find()) {
            if (matcher.end() == matcher.start()) continue
            if (matcher.start() > end) encodePiece(normalized.substring(end, matcher.start()), ids)
            encodePiece(matcher.group(), ids)
            end = matcher.end()
        }
        if (end < normalized.length) encodePiece(normalized.substring(end), ids)
    }

    private fun encodePiece(piece: String, ids: MutableList<Int>) {
        val cached = synchronized(pieceCache) { pieceCache[piece] }
        val pieceIds = cached ?: bytePairMerge(piece).also { merged ->
            synchronized(pieceCache) {
                if (pieceCache.size >= PIECE_CACHE_SIZE) pieceCache.clear()
                pieceCache[piece] = merged
            }
        }
        for (id in pieceIds) ids.add(id)
    }

    /** BPE of one piece: start from its bytes' ids, merge the lowest-ranked adjacent pair everywhere until none is left. */
    private fun bytePairMerge(piece: String): IntArray {
        val utf8 = piece.toByteArray(Charsets.UTF_8)
        var symbols = IntArray(utf8.size) { byteIds[utf8[it].toInt() and 0xFF] }
        while (symbols.size > 1) {
            var bestRank = Long.MAX_VALUE
            var bestMerge = 0L
            for (k in 0 until symbols.size - 1) {
                val merge = merges[pairKey(symbols[k], symbols[k + 1])] ?: continue
                if (merge ushr 32 < bestRank) {
                    bestRank = merge ushr 32
                    bestMerge = merge
                }
            }
            if (bestRank == Long.MAX_VALUE) break
            val left = symbols
            val merged = IntArray(left.size)
            var n = 0
            var k = 0
            while (k < left.size) {
                if (k + 1 < left.size && merges[pairKey(left[k], left[k + 1])] == bestMerge) {
                    merged[n++] = (bestMerge and 0xFFFFFFFFL).toInt()
                    k += 2
                } else {
                    merged[n++] = left[k++]
                }
            }
            symbols = merged.copyOf(n)
        }
        return symbols
    }

    companion object {
        private const val PIECE_CACHE_SIZE = 20000

        private fun pairKey(left: Int, right: Int): Long = (left.toLong() shl 32) or right.toLong()

        fun load(file: File): BpeTokenizer = fromJson(JsonObject.parse(file.readText(), file.name))

        fun fromJson(root: JsonObject): BpeTokenizer {
            val normalizer = root.map["normalizer"]
            val nfc = when {
                normalizer == null -> false
                (normalizer as? Map<*, *>)?.get("type") == "NFC" -> true
                else -> unsupported("normalizer $normalizer")
            }
            val split = splitPattern(root)
            val decoder = root.map["decoder"] as? Map<*, *>
            if (decoder?.get("type") != "ByteLevel") unsupported("decoder $decoder")
            val model = root.obj("model")
            if (model.stringOrNull("type") != "BPE" || model.map["dropout"] != null || model.map["unk_token"] != null ||
                model.map["byte_fallback"] == true || model.map["continuing_subword_prefix"] != null ||
                model.map["end_of_word_suffix"] != null) {
                unsupported("model ${model.map.filterKeys { it != "vocab" && it != "merges" }}")
            }
            val vocab = HashMap<String, Int>()
            for ((token, id) in model.obj("vocab").map) vocab[token] = (id as Long).toInt()
            val added = root.list("added_tokens").map {
                @Suppress("UNCHECKED_CAST")
                val token = JsonObject(it as Map<String, Any?>, "added_tokens")
                Triple(token.string("content"), token.int("id"), token.boolean("special"))
            }
            var size = 0
            for (id in vocab.values) size = maxOf(size, id + 1)
            for (token in added) size = maxOf(size, token.second + 1)
            val tokens = arrayOfNulls<String>(size)
            val special = BooleanArray(size)
            for ((token, id) in vocab) tokens[id] = token
            for ((content, id, isSpecial) in added) {
                tokens[id] = content
                special[id] = isSpecial
            }
            val merges = HashMap<Long, Long>(model.list("merges").size * 2)
            for ((rank, entry) in model.list("merges").withIndex()) {
                val pair = when (entry) {
                    is String -> entry.split(' ').also { if (it.size != 2) unsupported("merge '$entry'") }
                    is List<*> -> entry.map { it as String }
                    else -> unsupported("merge $entry")
                }
                val left = vocab[pair[0]] ?: unsupported("merge of unknown token ${pair[0]}")
                val right = vocab[pair[1]] ?: unsupported("merge of unknown token ${pair[1]}")
                val result = vocab[pair[0] + pair[1]] ?: unsupported("merge result ${pair[0]}${pair[1]} not in the vocabulary")
                val key = pairKey(left, right)
                if (key !in merges) merges[key] = (rank.toLong() shl 32) or result.toLong()
            }
            return BpeTokenizer(vocab, tokens, special, merges, added.map { AddedToken(it.first, it.second) }, split, nfc)
        }

        /** The Split regex of a Sequence[Split(Isolated), ByteLevel(no regex)] pre-tokenizer. */
        private fun splitPattern(root: JsonObject): Pattern {
            val pre = root.obj("pre_tokenizer")
            val steps = if (pre.stringOrNull("type") == "Sequence") pre.list("pretokenizers") else unsupported("pre_tokenizer ${pre.map}")
            val first = steps.getOrNull(0) as? Map<*, *>
            val second = steps.getOrNull(1) as? Map<*, *>
            val regex = (first?.get("pattern") as? Map<*, *>)?.get("Regex") as? String
            if (steps.size != 2 || first?.get("type") != "Split" || regex == null || first["behavior"] != "Isolated" ||
                first["invert"] != false || second?.get("type") != "ByteLevel" || second["use_regex"] != false ||
                second["add_prefix_space"] != false) {
                unsupported("pre_tokenizer ${pre.map}")
            }
            return PreTokenizerPattern.compile(regex)
        }

        private fun unsupported(what: String): Nothing = throw IllegalArgumentException("tokenizer.json: unsupported $what")
    }
}
