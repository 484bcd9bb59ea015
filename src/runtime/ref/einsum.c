/* Op family 'einsum' (ref backend): placeholder table until the family lands. */
#include "runtime/op_impl.h"

const eai__op_def_t eai__ref_ops_einsum[] = {{0}};
