// SPDX-License-Identifier: Apache-2.0
#include "table.hpp"

#include "skiff/api/time.hpp"

namespace skiff::apiserver {

using registry::PrinterColumn;
using registry::ResourceType;

bool parse_include_object(std::string_view value, IncludeObject& out) {
  if (value.empty() || value == "Metadata") {
    out = IncludeObject::kMetadata;
  } else if (value == "Object") {
    out = IncludeObject::kObject;
  } else if (value == "None") {
    out = IncludeObject::kNone;
  } else {
    return false;
  }
  return true;
}

namespace {

// One step of a JSONPath: a member name, an index, or a filter [?(@.k=="v")].
struct Step {
  enum class Kind : std::uint8_t { kMember, kIndex, kFilter, kAll };
  Kind kind = Kind::kMember;
  std::string name;
  long index = 0;
  std::string filter_key;    // dotted path relative to the element
  std::string filter_value;  // compared as string (or number text)
};

Step member(std::string name) {
  Step s;
  s.name = std::move(name);
  return s;
}

// Parses the subset of Kubernetes JSONPath printer columns use. Returns false on syntax errors.
bool parse_path(std::string_view path, std::vector<Step>& steps) {
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') {
    path = path.substr(1, path.size() - 2);
  }
  if (!path.empty() && path.front() == '$') {
    path.remove_prefix(1);
  }
  std::size_t i = 0;
  while (i < path.size()) {
    char c = path[i];
    if (c == '.') {
      ++i;
      std::size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') {
        ++i;
      }
      if (i > start) {
        steps.push_back(member(std::string(path.substr(start, i - start))));
      }
    } else if (c == '[') {
      std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) {
        return false;
      }
      std::string_view inner = path.substr(i + 1, close - i - 1);
      // A filter may contain ']' inside quotes; find the real end for "[?(" forms.
      if (inner.starts_with("?(")) {
        std::size_t end = path.find(")]", i);
        if (end == std::string_view::npos) {
          return false;
        }
        inner = path.substr(i + 3, end - i - 3);  // @.type=="Ready"
        close = end + 1;
        std::size_t eq = inner.find("==");
        if (!inner.starts_with("@.") || eq == std::string_view::npos) {
          return false;
        }
        Step s;
        s.kind = Step::Kind::kFilter;
        s.filter_key = std::string(inner.substr(2, eq - 2));
        std::string_view v = inner.substr(eq + 2);
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
          v = v.substr(1, v.size() - 2);
        }
        s.filter_value = std::string(v);
        steps.push_back(std::move(s));
      } else if (inner == "*") {
        {
        Step all;
        all.kind = Step::Kind::kAll;
        steps.push_back(std::move(all));
      }
      } else if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"')) {
        steps.push_back(member(std::string(inner.substr(1, inner.size() - 2))));
      } else {
        Step s;
        s.kind = Step::Kind::kIndex;
        char* end = nullptr;
        std::string num(inner);
        s.index = std::strtol(num.c_str(), &end, 10);
        if (num.empty() || end != num.c_str() + num.size()) {
          return false;
        }
        steps.push_back(std::move(s));
      }
      i = close + 1;
    } else {
      // A leading bare name ("spec.replicas").
      std::size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') {
        ++i;
      }
      steps.push_back(member(std::string(path.substr(start, i - start))));
    }
  }
  return true;
}

const json::Value* dotted(const json::Value& v, std::string_view path) {
  const json::Value* cur = &v;
  std::size_t pos = 0;
  while (cur != nullptr && pos <= path.size()) {
    std::size_t dot = path.find('.', pos);
    cur = cur->get(path.substr(pos, dot == std::string_view::npos ? path.npos : dot - pos));
    if (dot == std::string_view::npos) {
      break;
    }
    pos = dot + 1;
  }
  return cur;
}

std::string scalar_text(const json::Value& v) {
  if (v.is_string()) {
    return v.as_string();
  }
  return json::serialize(v);
}

void walk(const json::Value& v, const std::vector<Step>& steps, std::size_t at,
          std::vector<const json::Value*>& out) {
  if (at == steps.size()) {
    out.push_back(&v);
    return;
  }
  const Step& s = steps[at];
  switch (s.kind) {
    case Step::Kind::kMember:
      if (const json::Value* m = v.get(s.name)) {
        walk(*m, steps, at + 1, out);
      }
      break;
    case Step::Kind::kIndex:
      if (v.is_array()) {
        long n = static_cast<long>(v.as_array().size());
        long idx = s.index < 0 ? n + s.index : s.index;
        if (idx >= 0 && idx < n) {
          walk(v.as_array()[static_cast<std::size_t>(idx)], steps, at + 1, out);
        }
      }
      break;
    case Step::Kind::kAll:
      if (v.is_array()) {
        for (const auto& e : v.as_array()) {
          walk(e, steps, at + 1, out);
        }
      } else if (v.is_object()) {
        for (const auto& m : v.as_object()) {
          walk(m.value, steps, at + 1, out);
        }
      }
      break;
    case Step::Kind::kFilter:
      if (v.is_array()) {
        for (const auto& e : v.as_array()) {
          const json::Value* k = dotted(e, s.filter_key);
          if (k != nullptr && scalar_text(*k) == s.filter_value) {
            walk(e, steps, at + 1, out);
          }
        }
      }
      break;
  }
}

json::Value crd_cell(const PrinterColumn& col, const json::Value& object, registry::TimePoint now) {
  json::Value v = json_path_value(object, col.json_path);
  if (v.is_null()) {
    return json::Value();
  }
  if (col.type == "date" && v.is_string()) {
    auto t = api::parse_rfc3339(v.as_string());
    if (!t) {
      return json::Value("<invalid>");
    }
    return json::Value(api::translate_timestamp_since(*t, api::to_timestamp(now)));
  }
  if (col.type == "integer" && v.is_integral()) {
    return json::Value(v.as_int());
  }
  if (col.type == "number" && v.is_number()) {
    return v;
  }
  if (col.type == "boolean" && v.is_bool()) {
    return v;
  }
  if (v.is_string()) {
    return v;
  }
  return json::Value(json::serialize(v));
}

json::Value partial_metadata(const json::Value& object, std::string_view version) {
  return json::Object{{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/" + std::string(version)},
                      {"metadata", object["metadata"]}};
}

}  // namespace

json::Value json_path_value(const json::Value& object, std::string_view path) {
  std::vector<Step> steps;
  if (!parse_path(path, steps)) {
    return json::Value();
  }
  std::vector<const json::Value*> found;
  walk(object, steps, 0, found);
  if (found.empty()) {
    return json::Value();
  }
  if (found.size() == 1) {
    return *found.front();
  }
  // Several matches print space-separated, as kubectl's JSONPath printer does.
  std::string joined;
  for (const auto* v : found) {
    if (!joined.empty()) {
      joined += ' ';
    }
    joined += scalar_text(*v);
  }
  return json::Value(joined);
}

json::Value table_row(const ResourceType& type, const json::Value& object, IncludeObject include,
                      registry::TimePoint now) {
  json::Array cells;
  if (type.custom) {
    cells.emplace_back(object["metadata"].string_or("name"));
    for (const auto& col : type.columns) {
      if (col.json_path.empty()) {
        continue;  // the Name column
      }
      cells.push_back(crd_cell(col, object, now));
    }
  } else {
    cells = type.strategy->cells(object, now);
  }
  json::Value row = json::Object{{"cells", std::move(cells)}};
  if (include == IncludeObject::kMetadata) {
    row["object"] = partial_metadata(object, "v1");
  } else if (include == IncludeObject::kObject) {
    row["object"] = object;
  }
  return row;
}

json::Value make_table(const ResourceType& type, const json::Array& items, IncludeObject include,
                       registry::TimePoint now, std::string_view version,
                       const json::Value& list_metadata, bool with_columns) {
  json::Value table = json::Object{{"kind", "Table"},
                                   {"apiVersion", "meta.k8s.io/" + std::string(version)},
                                   {"metadata", list_metadata.is_object() ? list_metadata
                                                                          : json::Value::object()}};
  if (with_columns) {
    json::Array cols;
    for (const auto& c : type.columns) {
      cols.push_back(json::Object{{"name", c.name},
                                  {"type", c.type},
                                  {"format", c.format},
                                  {"description", c.description},
                                  {"priority", c.priority}});
    }
    table["columnDefinitions"] = std::move(cols);
  } else {
    table["columnDefinitions"] = json::Value();
  }
  json::Array rows;
  rows.reserve(items.size());
  for (const auto& item : items) {
    rows.push_back(table_row(type, item, include, now));
  }
  table["rows"] = std::move(rows);
  return table;
}

json::Value make_scale_table(const json::Value& scale, IncludeObject include, registry::TimePoint now,
                             std::string_view version) {
  // Upstream's printer for autoscaling.Scale (the scale subresource of every scalable kind).
  auto column = [](const char* name, const char* type, const char* description) {
    return json::Object{{"name", name},     {"type", type}, {"format", ""},
                        {"description", description}, {"priority", 0}};
  };
  json::Array cols{
      column("Name", "string", "Name must be unique within a namespace."),
      column("Desired", "integer", "desired number of instances for the scaled object."),
      column("Available", "integer", "actual number of observed instances of the scaled object."),
      column("Age", "string", "CreationTimestamp is a timestamp representing the server time when "
                              "this object was created.")};
  auto replicas = [&](const char* part) {
    const json::Value* v = scale.get_path({part, "replicas"});
    return json::Value(v != nullptr && v->is_integral() ? v->as_int() : 0);
  };
  std::string age = "<unknown>";
  if (auto t = api::parse_rfc3339(scale["metadata"].string_or("creationTimestamp"))) {
    age = api::translate_timestamp_since(*t, api::to_timestamp(now));
  }
  json::Value row = json::Object{
      {"cells", json::Array{json::Value(scale["metadata"].string_or("name")), replicas("spec"),
                            replicas("status"), json::Value(age)}}};
  if (include == IncludeObject::kMetadata) {
    row["object"] = partial_metadata(scale, "v1");
  } else if (include == IncludeObject::kObject) {
    row["object"] = scale;
  }
  return json::Object{{"kind", "Table"},
                      {"apiVersion", "meta.k8s.io/" + std::string(version)},
                      {"metadata", json::Object{{"resourceVersion",
                                                 scale["metadata"]["resourceVersion"]}}},
                      {"columnDefinitions", std::move(cols)},
                      {"rows", json::Array{std::move(row)}}};
}

}  // namespace skiff::apiserver
