// layer_norm.h — (to be written)
#pragma once
#include "sdnc/core/tensor.h"
