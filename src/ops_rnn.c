/*
** ops_rnn.c — kernel family 'rnn' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_rnn[] = {
    {0},
};
