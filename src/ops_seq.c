/*
** ops_seq.c — kernel family 'seq' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_seq[] = {
    {0},
};
