/*
** load_depth.c — how deeply an ONNX ModelProto nests its messages, measured on the protobuf
** wire bytes before protobuf-c unpacks them: protobuf-c recurses once per nested message
** with no limit of its own, so a model of 20000 nested If bodies (a 3 MB file) overflowed the
** stack. The walk follows only the fields that can nest (graphs in attributes, types in
** value infos, functions, training info) and stops at the --max-depth limit, so it is linear
** in the file and its own recursion is bounded.
*/
#include "load_internal.h"
#include "ld_limits.h"

enum { M_NONE, M_MODEL, M_TRAIN, M_FUNC, M_GRAPH, M_NODE, M_ATTR, M_VINFO, M_TYPE, M_TYPE_ELEM, M_TYPE_MAP };

/* Child message type of field `f` of a message of type `t` (M_NONE: not followed). */
static int child(int t, uint64_t f) {
    switch (t) {
    case M_MODEL: return f == 7 ? M_GRAPH : f == 25 ? M_FUNC : f == 20 ? M_TRAIN : M_NONE;
    case M_TRAIN: return f == 1 || f == 2 ? M_GRAPH : M_NONE;
    case M_FUNC: return f == 7 ? M_NODE : f == 12 ? M_VINFO : M_NONE;
    case M_GRAPH: return f == 1 ? M_NODE : f >= 11 && f <= 13 ? M_VINFO : M_NONE;
    case M_NODE: return f == 5 ? M_ATTR : M_NONE;
    case M_ATTR: return f == 6 || f == 11 ? M_GRAPH : f == 14 || f == 15 ? M_TYPE : M_NONE;
    case M_VINFO: return f == 2 ? M_TYPE : M_NONE;
    case M_TYPE: return f == 4 || f == 9 ? M_TYPE_ELEM : f == 5 ? M_TYPE_MAP : M_NONE;
    case M_TYPE_ELEM: return f == 1 ? M_TYPE : M_NONE;   /* Sequence / Optional elem_type */
    case M_TYPE_MAP: return f == 2 ? M_TYPE : M_NONE;    /* Map value_type */
    default: return M_NONE;
    }
}

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int s = 0; s < 64 && *p < end; s += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Deepest nesting below the message [p, end) of type t, at depth d; stops past `limit`.
 * Malformed bytes end the walk quietly: the protobuf parser reports them. */
static int walk(const uint8_t *p, const uint8_t *end, int t, int d, int limit) {
    int deepest = d;
    while (p < end && deepest <= limit) {
        uint64_t key, v;
        if (!varint(&p, end, &key)) break;
        switch (key & 7) {
        case 0: if (!varint(&p, end, &v)) return deepest; break;
        case 1: if (end - p < 8) return deepest; p += 8; break;
        case 5: if (end - p < 4) return deepest; p += 4; break;
        case 2: {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p)) return deepest;
            int c = child(t, key >> 3);
            if (c != M_NONE) {
                int sub = walk(p, p + v, c, d + 1, limit);
                if (sub > deepest) deepest = sub;
            }
            p += v;
            break;
        }
        default: return deepest;   /* groups or garbage */
        }
    }
    return deepest;
}

ld_status ld_proto_check_depth(const uint8_t *buf, size_t len) {
    /* one subgraph level is three messages (graph, node, attribute); types nest two per level */
    int limit = (int)LD_MIN(ld_limit.max_depth, 100000) * 3 + 64;
    int depth = walk(buf, buf + len, M_MODEL, 0, limit);
    if (depth > limit)
        return ld_error(LD_ERR_DATA, "the model nests subgraphs or types more than %d messages deep, past the "
                        "limit of %lld subgraph levels (raise it with --max-depth)", limit,
                        (long long)ld_limit.max_depth);
    return LD_OK;
}
