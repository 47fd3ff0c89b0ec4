/*
** ops_misc.c — kernel family 'misc' (being written).
*/
#include "ld_op.h"

const ld_op_def ld_ops_misc[] = {
    {0},
};
