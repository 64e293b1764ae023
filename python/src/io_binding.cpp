// io_binding.cpp — files: safetensors (read and write), GGUF (read, dequantised to float32) and
// heatmap pictures (PNG) through sdnc's own readers and writers (src/sdnc/io, src/sdnc/viz).
#include "bindings.h"
#include "sdnc/io/gguf.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/viz/heatmap.h"
#include "sdnc/viz/png_writer.h"

namespace sdnc::python {

namespace {

nb::object gguf_value(const gguf::Value& v) {
  using T = gguf::ValueType;
  switch (v.type) {
    case T::STRING: return nb::str(v.s.c_str(), v.s.size());
    case T::FLOAT32:
    case T::FLOAT64: return nb::float_(v.f);
    case T::BOOL: return nb::bool_(v.u != 0);
    case T::ARRAY: {
      nb::list items;
      for (const auto& item : v.array) items.append(gguf_value(item));
      return std::move(items);
    }
    default: return v.is_integer() && v.type != T::UINT64 ? nb::cast(v.as_int()) : nb::cast(v.u);
  }
}

}  // namespace

void bind_io(nb::module_& m) {
  m.def("load_safetensors", [](const std::string& path) {
    SafetensorsFile file;
    {
      nb::gil_scoped_release release;
      file = load_safetensors(path);
    }
    nb::dict tensors;
    for (const auto& [name, t] : file.tensors) tensors[name.c_str()] = to_numpy(t);
    nb::dict metadata;
    for (const auto& [k, v] : file.metadata) metadata[k.c_str()] = v;
    return nb::make_tuple(tensors, metadata);
  });
  m.def("save_safetensors", [](const std::string& path, nb::handle tensors, const std::map<std::string, std::string>& metadata) {
    auto map = to_tensor_map(tensors, "save_safetensors: " + path);
    nb::gil_scoped_release release;
    save_safetensors(path, map, metadata);
  });
  m.def("load_gguf", [](const std::string& path) {
    gguf::File file = gguf::File::open(path);
    std::map<std::string, Tensor> tensors;
    {
      nb::gil_scoped_release release;
      for (const auto& info : file.tensors()) tensors[info.name] = file.dequantize(info);
    }
    nb::dict out, metadata;
    for (const auto& [name, t] : tensors) out[name.c_str()] = to_numpy(t);
    for (const auto& key : file.metadata_order()) metadata[key.c_str()] = gguf_value(file.get(key));
    return nb::make_tuple(out, metadata);
  });
  m.def("save_heatmap", [](const std::string& path, nb::handle values, const std::string& title,
                           const std::string& x_label, const std::string& y_label, std::optional<double> vmin,
                           std::optional<double> vmax) {
    Tensor t = to_tensor(values, "save_heatmap");
    viz::HeatmapOptions o;
    o.title = title, o.x_label = x_label, o.y_label = y_label, o.vmin = vmin, o.vmax = vmax;
    nb::gil_scoped_release release;
    viz::Image image = t.ndim() == 3 ? viz::render_heatmap_panels(t, o) : viz::render_heatmap(t, o);
    viz::write_png(path, image);
  });
}

}  // namespace sdnc::python
