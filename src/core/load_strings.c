/*
** load_strings.c — the --max-string-bytes limit: after protobuf-c has unpacked a ModelProto
** (or a TensorProto .pb), walk every field of every message through protobuf-c's descriptors
** and refuse a single string longer than the limit: names, op types, domains, doc strings,
** attribute strings, string tensor elements, metadata. Bulk tensor bytes (raw_data) are data,
** not strings, and fall under --max-tensor-bytes instead. The walk is generic, so a field
** added to onnx.proto is covered without a change here; its recursion follows the message
** nesting, which ld_proto_check_depth has already bounded.
*/
#include "load_internal.h"
#include "ld_limits.h"

#include <stdio.h>
#include <string.h>

typedef struct walk {
    char path[400];          /* field path of the message being walked: graph.node[3] */
    char who[240];           /* the named messages on that path: graph 'g', node 'conv1' */
    size_t bad_len;
} walk;

static size_t path_push(walk *w, const ProtobufCFieldDescriptor *f, size_t i, bool repeated) {
    size_t at = strlen(w->path);
    snprintf(w->path + at, sizeof w->path - at, repeated ? "%s%s[%zu]" : "%s%s", at ? "." : "", f->name, i);
    return at;
}

/* A message with a short name (a node, a tensor, a graph) is easier found by it. */
static void name_who(walk *w, const ProtobufCFieldDescriptor *f, const ProtobufCMessage *c) {
    const ProtobufCFieldDescriptor *nf = protobuf_c_message_descriptor_get_field_by_name(c->descriptor, "name");
    if (!nf || nf->type != PROTOBUF_C_TYPE_STRING || nf->label == PROTOBUF_C_LABEL_REPEATED) return;
    const char *name = *(char *const *)((const char *)c + nf->offset);
    size_t at = strlen(w->who);
    if (name && name[0] && strlen(name) < 60 && at < sizeof w->who - 80)
        snprintf(w->who + at, sizeof w->who - at, "%s%s '%s'", at ? ", " : "", f->name, name);
}

static bool too_long(walk *w, const ProtobufCFieldDescriptor *f, size_t i, bool repeated, size_t len) {
    if ((uint64_t)len <= (uint64_t)ld_limit.max_string_bytes) return false;
    path_push(w, f, i, repeated);
    w->bad_len = len;
    return true;
}

/* true (with w->path naming it) when a string under m is too long */
static bool walk_msg(walk *w, const ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned k = 0; k < d->n_fields; k++) {
        const ProtobufCFieldDescriptor *f = &d->fields[k];
        const char *member = (const char *)m + f->offset;
        bool rep = f->label == PROTOBUF_C_LABEL_REPEATED;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id) continue;
        }
        size_t n = rep ? *(const size_t *)((const char *)m + f->quantifier_offset) : 1;
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING:
            for (size_t i = 0; i < n; i++) {
                const char *s = rep ? (*(char *const *const *)member)[i] : *(char *const *)member;
                if (s && too_long(w, f, i, rep, strlen(s))) return true;
            }
            break;
        case PROTOBUF_C_TYPE_BYTES:
            if (!strcmp(f->name, "raw_data")) break;   /* tensor data, not a string */
            for (size_t i = 0; i < n; i++) {
                const ProtobufCBinaryData *b = rep ? &(*(ProtobufCBinaryData *const *)member)[i]
                                                   : (const ProtobufCBinaryData *)member;
                if (too_long(w, f, i, rep, b->len)) return true;
            }
            break;
        case PROTOBUF_C_TYPE_MESSAGE:
            for (size_t i = 0; i < n; i++) {
                const ProtobufCMessage *c = rep ? (*(ProtobufCMessage *const *const *)member)[i]
                                                : *(ProtobufCMessage *const *)member;
                if (!c) continue;
                char who[sizeof w->who];
                memcpy(who, w->who, sizeof who);
                size_t at = path_push(w, f, i, rep);
                name_who(w, f, c);
                if (walk_msg(w, c)) return true;
                w->path[at] = '\0';
                memcpy(w->who, who, sizeof who);
            }
            break;
        default:
            break;
        }
    }
    return false;
}

ld_status ld_proto_check_strings(const ProtobufCMessage *m) {
    walk w = {{0}, {0}, 0};
    if (!m || !walk_msg(&w, m)) return LD_OK;
    return ld_error(LD_ERR_DATA, "%s%s%s%s holds a string of %zu bytes, more than the limit of %lld bytes "
                    "per string (raise it with --max-string-bytes)", w.who, w.who[0] ? " (" : "",
                    w.path, w.who[0] ? ")" : "", w.bad_len, (long long)ld_limit.max_string_bytes);
}
