// sdnc.h — the whole public API in one include.
#pragma once
#include "sdnc/autograd/engine.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/rng.h"
#include "sdnc/core/tensor.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/ops/ops.h"
