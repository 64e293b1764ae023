// ops.h — every op family. One header per family; each header is the manual of its ops.
#pragma once
#include "sdnc/ops/cumprod.h"
#include "sdnc/ops/dropout.h"
#include "sdnc/ops/elementwise.h"
#include "sdnc/ops/layer_norm.h"
#include "sdnc/ops/loss.h"
#include "sdnc/ops/lstm_cell.h"
#include "sdnc/ops/attention.h"
#include "sdnc/ops/matmul.h"
#include "sdnc/ops/reduce.h"
#include "sdnc/ops/shape.h"
#include "sdnc/ops/softmax.h"
#include "sdnc/ops/unary.h"
