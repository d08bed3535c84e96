/* rf_kv: bounds and conventions of the built-in "kv" data model. */
#ifndef RF_KV_H
#define RF_KV_H

/* The kv model is a map from keys to values, both non-empty byte strings
 * without the space byte (0x20; space separates tokens).
 *
 *   put K V        -> "ok"              stores V under K
 *   del K          -> "1" | "0"         removes K; "1" when it existed
 *   cas K OLD NEW  -> "ok" | "fail"     sets K to NEW when its value is OLD
 *   get K (query)  -> V | "nil"
 *
 * The token "nil" stands for "absent": it is never a stored value (put K nil
 * is rejected), get replies nil for an absent key, cas K nil NEW creates K
 * only when it is absent, and cas K OLD nil deletes K when its value is OLD.
 * Rejections (RF_EINVAL for malformed input or sizes over the bounds,
 * RF_EFULL for a new key when the map is full, RF_ENOMEM) reply
 * "error: ..." and leave the state unchanged. */

#define RF_KV_KEY_MAX 256       /* bytes of one key */
#define RF_KV_VALUE_MAX 1024    /* bytes of one value */
#define RF_KV_ENTRIES_MAX 65536 /* keys in one state */

/* Encoding (stable, version 1; all integers little-endian):
 *   u8 format (1), u32 entry count,
 *   then per entry in ascending key order (bytewise, a prefix first):
 *   u16 key length, u32 value length, key bytes, value bytes.
 * Decoding refuses anything else: unsorted or repeated keys, sizes over
 * the bounds, spaces, a "nil" value, trailing bytes. So equal states have
 * equal encodings.
 * Digest: d = SipHash-2-4(K, format byte | u32 count); then for each entry
 * e in order, d = SipHash-2-4(K, d as u64 | SipHash-2-4(K, e's encoded
 * bytes) as u64), with K the 16-byte key "rf-model-kv-v1\0\0". */
#define RF_KV_FORMAT_V1 1

#endif
