/*
** fuzz_pb.c — libFuzzer harness: an ONNX TensorProto .pb file (--input x.pb, the ONNX test
** suites' input_N.pb / output_N.pb), decoded by ld_tensor_from_pb_buffer.
*/
#include "fuzz_util.h"
#include "ld_graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    ld_tensor t = {0};
    char *name = NULL;
    if (ld_tensor_from_pb_buffer(data, size, &t, &name) == LD_OK) {
        if (t.kind == LD_KIND_TENSOR && t.numel != ld_dims_numel(t.ndim, t.dims)) abort();
        ld_tensor_clear(&t);
    }
    free(name);
    return 0;
}
