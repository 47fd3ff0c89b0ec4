# A constant-condition If whose taken branch returns a Constant: inlined at load, the branch
# output is a folded constant and must still reach the If's reader (Add). Writes argv[1].
import sys
import onnx, onnx.numpy_helper as nh
from onnx import helper as h, TensorProto as T
import numpy as np
c = h.make_node("Constant", [], ["c"], value=nh.from_array(np.array([1.5, -2.0], np.float32)))
then = h.make_graph([c], "then", [], [h.make_tensor_value_info("c", T.FLOAT, [2])])
c2 = h.make_node("Constant", [], ["d"], value=nh.from_array(np.array([0.5, 0.5], np.float32)))
els = h.make_graph([c2], "else", [], [h.make_tensor_value_info("d", T.FLOAT, [2])])
cond = nh.from_array(np.array(True), "cond")
nodes = [h.make_node("If", ["cond"], ["i"], then_branch=then, else_branch=els, name="If_0"),
         h.make_node("Add", ["x", "i"], ["y"], name="Add_1")]
g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [2])], [h.make_tensor_value_info("y", T.FLOAT, [2])], [cond])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)]); m.ir_version = 8
onnx.checker.check_model(m); onnx.save(m, sys.argv[1])
