// SPDX-License-Identifier: Apache-2.0
// Swagger 2.0 JSON -> gnostic `openapi.v2.Document` protobuf. Field numbers and message shapes are
// those of gnostic's openapiv2/OpenAPIv2.proto (schema facts). What the shapes mean for a writer:
// - JSON maps become repeated `Named*` {1 name, 2 value} entries, in document order;
// - `x-*` members become `vendor_extension` NamedAny entries whose Any carries the YAML text of the
//   value in field 2 (`yaml`); so do `default`, `enum` values and `example`;
// - JSON unions are oneof wrappers: ParametersItem {1 Parameter, 2 JsonReference},
//   Parameter {1 BodyParameter, 2 NonBodyParameter {1 header, 2 formData, 3 query, 4 path}},
//   ResponseValue {1 Response, 2 JsonReference}, SchemaItem {1 Schema, 2 FileSchema},
//   AdditionalPropertiesItem {1 Schema, 2 bool};
// - Schema.type is TypeItem {repeated string 1}, Schema.items is ItemsItem {repeated Schema 1}.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "openapi_v2.hpp"
#include "proto_writer.hpp"

namespace skiff::apiserver {
namespace {

using json::Member;
using json::Object;
using json::Value;

// The member `key` of `o`, or null.
const Value& at(const Object& o, std::string_view key) {
  static const Value kNull;
  const Value* v = o.find(key);
  return v != nullptr ? *v : kNull;
}

// ---- YAML for Any.yaml ----

// Whether a YAML 1.1 reader (Go's yaml.v2, which kube-openapi uses) reads `s` back as the same
// plain string. Conservative: identifiers and dotted/slashed names only, and none of the words
// yaml.v2 resolves to booleans or null.
bool plain_yaml_string(std::string_view s) {
  if (s.empty() || s.size() > 256) {
    return false;
  }
  auto c0 = static_cast<unsigned char>(s[0]);
  if (std::isalpha(c0) == 0 && c0 != '_' && c0 != '/') {
    return false;
  }
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) == 0 && c != '_' && c != '-' && c != '.' && c != '/') {
      return false;
    }
  }
  std::string lower;
  for (char ch : s) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  for (std::string_view word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}) {
    if (lower == word) {
      return false;
    }
  }
  return true;
}

// A YAML double-quoted scalar: `"` and `\` escaped, control bytes and DEL as \xNN; other bytes
// (UTF-8) as they are.
void quoted_yaml(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void scalar_yaml(const Value& v, std::string& out) {
  switch (v.type()) {
    case json::Type::kNull:
      out += "null";
      break;
    case json::Type::kBool:
      out += v.as_bool() ? "true" : "false";
      break;
    case json::Type::kInt:
    case json::Type::kDouble:
      // JSON numbers are YAML 1.1 ints and floats as they are printed; non-finite doubles cannot
      // occur in a json::Value that came from JSON.
      out += json::serialize(v);
      break;
    case json::Type::kString:
      if (plain_yaml_string(v.as_string())) {
        out += v.as_string();
      } else {
        quoted_yaml(v.as_string(), out);
      }
      break;
    case json::Type::kArray:
      out += "[]";
      break;
    case json::Type::kObject:
      out += "{}";
      break;
  }
}

bool inline_yaml(const Value& v) {
  return !(v.is_array() || v.is_object()) || v.empty();
}

// Block style as yaml.v2 writes it: mappings indent by two, sequences under a key start at the
// key's column, a mapping inside a sequence starts on the dash's line.
void block_yaml(const Value& v, std::size_t indent, std::string& out) {
  if (inline_yaml(v)) {
    out.append(indent, ' ');
    scalar_yaml(v, out);
    out.push_back('\n');
    return;
  }
  if (v.is_object()) {
    for (const Member& m : v.as_object()) {
      out.append(indent, ' ');
      scalar_yaml(Value(m.key), out);
      out.push_back(':');
      if (inline_yaml(m.value)) {
        out.push_back(' ');
        scalar_yaml(m.value, out);
        out.push_back('\n');
      } else {
        out.push_back('\n');
        block_yaml(m.value, m.value.is_object() ? indent + 2 : indent, out);
      }
    }
    return;
  }
  for (const Value& e : v.as_array()) {
    if (inline_yaml(e)) {
      out.append(indent, ' ');
      out += "- ";
      scalar_yaml(e, out);
      out.push_back('\n');
      continue;
    }
    // Render the element two columns in, then put the dash over the first line's indentation.
    std::string nested;
    block_yaml(e, indent + 2, nested);
    out.append(indent, ' ');
    out += "- ";
    out.append(nested, indent + 2, std::string::npos);
  }
}

// ---- the message encoders ----

class Encoder {
public:
  std::string run(const Value& doc) {
    w_.reserve(1 << 20);
    if (doc.is_object()) {
      document(doc.as_object());
    }
    return w_.take();
  }

private:
  // Scalars: proto3 leaves defaults out.
  void str(std::uint32_t n, const Value& v) {
    if (v.is_string()) {
      w_.string_if_set(n, v.as_string());
    }
  }
  void boolean(std::uint32_t n, const Value& v) {
    if (v.is_bool()) {
      w_.bool_if_set(n, v.as_bool());
    }
  }
  void int64(std::uint32_t n, const Value& v) {
    if (v.is_integral() && v.as_int() != 0) {
      w_.int64_field(n, v.as_int());
    }
  }
  void dbl(std::uint32_t n, const Value& v) {
    if (v.is_number() && v.as_double() != 0.0) {
      w_.double_field(n, v.as_double());
    }
  }
  // repeated string: a JSON array of strings (or one string).
  void strings(std::uint32_t n, const Value& v) {
    if (v.is_string()) {
      w_.bytes_field(n, v.as_string());
    } else if (v.is_array()) {
      for (const Value& e : v.as_array()) {
        if (e.is_string()) {
          w_.bytes_field(n, e.as_string());
        }
      }
    }
  }

  // Any {2 yaml}. Identical values recur thousands of times (list types, GVKs): cache the text.
  void any(std::uint32_t n, const Value& v) {
    std::string key = json::serialize(v);
    auto it = yaml_cache_.find(key);
    if (it == yaml_cache_.end()) {
      it = yaml_cache_.emplace(std::move(key), openapi_v2_yaml(v)).first;
    }
    auto m = w_.begin_message(n);
    w_.bytes_field(2, it->second);
    w_.end_message(m);
  }
  void anys(std::uint32_t n, const Value& v) {
    if (v.is_array()) {
      for (const Value& e : v.as_array()) {
        any(n, e);
      }
    }
  }
  // NamedAny {1 name, 2 Any}.
  void named_any(std::uint32_t n, std::string_view name, const Value& v) {
    auto m = w_.begin_message(n);
    w_.bytes_field(1, name);
    any(2, v);
    w_.end_message(m);
  }
  void vendor_extensions(std::uint32_t n, const Object& o) {
    for (const Member& m : o) {
      if (m.key.starts_with("x-")) {
        named_any(n, m.key, m.value);
      }
    }
  }

  template <class Fn>
  void message(std::uint32_t n, const Value& v, Fn&& body) {
    if (!v.is_object()) {
      return;
    }
    auto m = w_.begin_message(n);
    body(v.as_object());
    w_.end_message(m);
  }

  void document(const Object& o) {
    for (const Member& m : o) {
      const std::string& k = m.key;
      const Value& v = m.value;
      if (k == "swagger") {
        str(1, v);
      } else if (k == "info") {
        message(2, v, [&](const Object& x) { info(x); });
      } else if (k == "host") {
        str(3, v);
      } else if (k == "basePath") {
        str(4, v);
      } else if (k == "schemes") {
        strings(5, v);
      } else if (k == "consumes") {
        strings(6, v);
      } else if (k == "produces") {
        strings(7, v);
      } else if (k == "paths") {
        message(8, v, [&](const Object& x) { paths(x); });
      } else if (k == "definitions") {
        // Definitions {repeated NamedSchema 1}.
        message(9, v, [&](const Object& x) { named_schemas(x); });
      } else if (k == "parameters") {
        // ParameterDefinitions {repeated NamedParameter 1 {1 name, 2 Parameter}}.
        message(10, v, [&](const Object& x) {
          for (const Member& p : x) {
            message(1, p.value, [&](const Object& po) {
              w_.bytes_field(1, p.key);
              message(2, p.value, [&](const Object&) { parameter(po); });
            });
          }
        });
      } else if (k == "responses") {
        // ResponseDefinitions {repeated NamedResponse 1 {1 name, 2 Response}}.
        message(11, v, [&](const Object& x) {
          for (const Member& r : x) {
            message(1, r.value, [&](const Object& ro) {
              w_.bytes_field(1, r.key);
              message(2, r.value, [&](const Object&) { response(ro); });
            });
          }
        });
      } else if (k == "security") {
        security_requirements(12, v);
      } else if (k == "securityDefinitions") {
        message(13, v, [&](const Object& x) { security_definitions(x); });
      } else if (k == "tags") {
        if (v.is_array()) {
          for (const Value& t : v.as_array()) {
            message(14, t, [&](const Object& x) { tag(x); });
          }
        }
      } else if (k == "externalDocs") {
        message(15, v, [&](const Object& x) { external_docs(x); });
      }
    }
    vendor_extensions(16, o);
  }

  void info(const Object& o) {
    for (const Member& m : o) {
      if (m.key == "title") {
        str(1, m.value);
      } else if (m.key == "version") {
        str(2, m.value);
      } else if (m.key == "description") {
        str(3, m.value);
      } else if (m.key == "termsOfService") {
        str(4, m.value);
      } else if (m.key == "contact") {
        message(5, m.value, [&](const Object& c) {
          str(1, at(c, "name"));
          str(2, at(c, "url"));
          str(3, at(c, "email"));
          vendor_extensions(4, c);
        });
      } else if (m.key == "license") {
        message(6, m.value, [&](const Object& l) {
          str(1, at(l, "name"));
          str(2, at(l, "url"));
          vendor_extensions(3, l);
        });
      }
    }
    vendor_extensions(7, o);
  }

  void external_docs(const Object& o) {
    str(1, at(o, "description"));
    str(2, at(o, "url"));
    vendor_extensions(3, o);
  }

  void tag(const Object& o) {
    str(1, at(o, "name"));
    str(2, at(o, "description"));
    message(3, at(o, "externalDocs"), [&](const Object& x) { external_docs(x); });
    vendor_extensions(4, o);
  }

  // Paths {repeated NamedAny vendor_extension 1, repeated NamedPathItem path 2}.
  void paths(const Object& o) {
    vendor_extensions(1, o);
    for (const Member& m : o) {
      if (m.key.starts_with("x-")) {
        continue;
      }
      message(2, m.value, [&](const Object& item) {
        w_.bytes_field(1, m.key);
        message(2, m.value, [&](const Object&) { path_item(item); });
      });
    }
  }

  void path_item(const Object& o) {
    for (const Member& m : o) {
      const std::string& k = m.key;
      if (k == "$ref") {
        str(1, m.value);
      } else if (k == "get" || k == "put" || k == "post" || k == "delete" || k == "options" ||
                 k == "head" || k == "patch") {
        std::uint32_t n = k == "get"       ? 2
                          : k == "put"     ? 3
                          : k == "post"    ? 4
                          : k == "delete"  ? 5
                          : k == "options" ? 6
                          : k == "head"    ? 7
                                           : 8;
        message(n, m.value, [&](const Object& op) { operation(op); });
      } else if (k == "parameters") {
        parameters_items(9, m.value);
      }
    }
    vendor_extensions(10, o);
  }

  void operation(const Object& o) {
    for (const Member& m : o) {
      const std::string& k = m.key;
      const Value& v = m.value;
      if (k == "tags") {
        strings(1, v);
      } else if (k == "summary") {
        str(2, v);
      } else if (k == "description") {
        str(3, v);
      } else if (k == "externalDocs") {
        message(4, v, [&](const Object& x) { external_docs(x); });
      } else if (k == "operationId") {
        str(5, v);
      } else if (k == "produces") {
        strings(6, v);
      } else if (k == "consumes") {
        strings(7, v);
      } else if (k == "parameters") {
        parameters_items(8, v);
      } else if (k == "responses") {
        message(9, v, [&](const Object& x) { responses(x); });
      } else if (k == "schemes") {
        strings(10, v);
      } else if (k == "deprecated") {
        boolean(11, v);
      } else if (k == "security") {
        security_requirements(12, v);
      }
    }
    vendor_extensions(13, o);
  }

  // repeated ParametersItem {oneof: 1 Parameter, 2 JsonReference}.
  void parameters_items(std::uint32_t n, const Value& v) {
    if (!v.is_array()) {
      return;
    }
    for (const Value& p : v.as_array()) {
      message(n, p, [&](const Object& po) {
        if (const Value* ref = po.find("$ref")) {
          message(2, p, [&](const Object&) {
            str(1, *ref);
            str(2, at(po, "description"));
          });
        } else {
          message(1, p, [&](const Object&) { parameter(po); });
        }
      });
    }
  }

  // Parameter {oneof: 1 BodyParameter, 2 NonBodyParameter}.
  void parameter(const Object& o) {
    std::string_view in = at(o, "in").is_string() ? std::string_view(at(o, "in").as_string()) : "";
    if (in == "body") {
      auto b = w_.begin_message(1);
      str(1, at(o, "description"));
      str(2, at(o, "name"));
      str(3, at(o, "in"));
      boolean(4, at(o, "required"));
      message(5, at(o, "schema"), [&](const Object& s) { schema(s); });
      vendor_extensions(6, o);
      w_.end_message(b);
      return;
    }
    // NonBodyParameter {oneof: 1 header, 2 formData, 3 query, 4 path}. The four sub-schemas share
    // required 1, in 2, description 3, name 4; query and formData add allow_empty_value 5, so their
    // primitive members start at 6 where header and path start at 5.
    std::uint32_t which = in == "header" ? 1 : in == "formData" ? 2 : in == "path" ? 4 : 3;
    bool empty_value_field = which == 2 || which == 3;
    auto nb = w_.begin_message(2);
    auto sub = w_.begin_message(which);
    boolean(1, at(o, "required"));
    str(2, at(o, "in"));
    str(3, at(o, "description"));
    str(4, at(o, "name"));
    if (empty_value_field) {
      boolean(5, at(o, "allowEmptyValue"));
    }
    primitives(o, empty_value_field ? 6 : 5);
    w_.end_message(sub);
    w_.end_message(nb);
  }

  // The members PrimitivesItems and the non-body parameter sub-schemas share, numbered from `base`
  // (PrimitivesItems: 1): type, format, items, collectionFormat, default, maximum,
  // exclusiveMaximum, minimum, exclusiveMinimum, maxLength, minLength, pattern, maxItems, minItems,
  // uniqueItems, enum, multipleOf, then vendor_extension.
  void primitives(const Object& o, std::uint32_t base) {
    for (const Member& m : o) {
      const std::string& k = m.key;
      const Value& v = m.value;
      if (k == "type") {
        str(base, v);
      } else if (k == "format") {
        str(base + 1, v);
      } else if (k == "items") {
        message(base + 2, v, [&](const Object& x) { primitives(x, 1); });
      } else if (k == "collectionFormat") {
        str(base + 3, v);
      } else if (k == "default") {
        any(base + 4, v);
      } else if (k == "maximum") {
        dbl(base + 5, v);
      } else if (k == "exclusiveMaximum") {
        boolean(base + 6, v);
      } else if (k == "minimum") {
        dbl(base + 7, v);
      } else if (k == "exclusiveMinimum") {
        boolean(base + 8, v);
      } else if (k == "maxLength") {
        int64(base + 9, v);
      } else if (k == "minLength") {
        int64(base + 10, v);
      } else if (k == "pattern") {
        str(base + 11, v);
      } else if (k == "maxItems") {
        int64(base + 12, v);
      } else if (k == "minItems") {
        int64(base + 13, v);
      } else if (k == "uniqueItems") {
        boolean(base + 14, v);
      } else if (k == "enum") {
        anys(base + 15, v);
      } else if (k == "multipleOf") {
        dbl(base + 16, v);
      }
    }
    vendor_extensions(base + 17, o);
  }

  // Responses {repeated NamedResponseValue 1 {1 name, 2 ResponseValue}, vendor_extension 2};
  // ResponseValue {oneof: 1 Response, 2 JsonReference}.
  void responses(const Object& o) {
    for (const Member& m : o) {
      if (m.key.starts_with("x-")) {
        continue;
      }
      message(1, m.value, [&](const Object& r) {
        w_.bytes_field(1, m.key);
        message(2, m.value, [&](const Object&) {
          if (const Value* ref = r.find("$ref")) {
            message(2, m.value, [&](const Object&) {
              str(1, *ref);
              str(2, at(r, "description"));
            });
          } else {
            message(1, m.value, [&](const Object&) { response(r); });
          }
        });
      });
    }
    vendor_extensions(2, o);
  }

  // Response {1 description, 2 SchemaItem, 3 headers, 4 examples, 5 vendor_extension}.
  void response(const Object& o) {
    str(1, at(o, "description"));
    message(2, at(o, "schema"), [&](const Object& s) {
      // SchemaItem {oneof: 1 Schema, 2 FileSchema}.
      if (at(s, "type").is_string() && at(s, "type").as_string() == "file") {
        message(2, at(o, "schema"), [&](const Object&) { file_schema(s); });
      } else {
        message(1, at(o, "schema"), [&](const Object&) { schema(s); });
      }
    });
    vendor_extensions(5, o);
  }

  void file_schema(const Object& o) {
    str(1, at(o, "format"));
    str(2, at(o, "title"));
    str(3, at(o, "description"));
    if (const Value* d = o.find("default")) {
      any(4, *d);
    }
    strings(5, at(o, "required"));
    str(6, at(o, "type"));
    boolean(7, at(o, "readOnly"));
    message(8, at(o, "externalDocs"), [&](const Object& x) { external_docs(x); });
    if (const Value* e = o.find("example")) {
      any(9, *e);
    }
    vendor_extensions(10, o);
  }

  // repeated NamedSchema {1 name, 2 Schema} in field 1 (Definitions, Properties).
  void named_schemas(const Object& o) {
    for (const Member& m : o) {
      message(1, m.value, [&](const Object& s) {
        w_.bytes_field(1, m.key);
        message(2, m.value, [&](const Object&) { schema(s); });
      });
    }
  }

  void schema(const Object& o) {
    for (const Member& m : o) {
      const std::string& k = m.key;
      const Value& v = m.value;
      if (k == "$ref") {
        str(1, v);
      } else if (k == "format") {
        str(2, v);
      } else if (k == "title") {
        str(3, v);
      } else if (k == "description") {
        str(4, v);
      } else if (k == "default") {
        any(5, v);
      } else if (k == "multipleOf") {
        dbl(6, v);
      } else if (k == "maximum") {
        dbl(7, v);
      } else if (k == "exclusiveMaximum") {
        boolean(8, v);
      } else if (k == "minimum") {
        dbl(9, v);
      } else if (k == "exclusiveMinimum") {
        boolean(10, v);
      } else if (k == "maxLength") {
        int64(11, v);
      } else if (k == "minLength") {
        int64(12, v);
      } else if (k == "pattern") {
        str(13, v);
      } else if (k == "maxItems") {
        int64(14, v);
      } else if (k == "minItems") {
        int64(15, v);
      } else if (k == "uniqueItems") {
        boolean(16, v);
      } else if (k == "maxProperties") {
        int64(17, v);
      } else if (k == "minProperties") {
        int64(18, v);
      } else if (k == "required") {
        strings(19, v);
      } else if (k == "enum") {
        anys(20, v);
      } else if (k == "additionalProperties") {
        // AdditionalPropertiesItem {oneof: 1 Schema, 2 bool}: a oneof member is written even when
        // false, or `additionalProperties: false` would read back as absent.
        if (v.is_object()) {
          auto a = w_.begin_message(21);
          message(1, v, [&](const Object& s) { schema(s); });
          w_.end_message(a);
        } else if (v.is_bool()) {
          auto a = w_.begin_message(21);
          w_.bool_field(2, v.as_bool());
          w_.end_message(a);
        }
      } else if (k == "type") {
        // TypeItem {repeated string 1}.
        if (v.is_string() || v.is_array()) {
          auto t = w_.begin_message(22);
          strings(1, v);
          w_.end_message(t);
        }
      } else if (k == "items") {
        // ItemsItem {repeated Schema 1}: one schema, or a tuple's list.
        if (v.is_object() || v.is_array()) {
          auto it = w_.begin_message(23);
          if (v.is_object()) {
            message(1, v, [&](const Object& s) { schema(s); });
          } else {
            for (const Value& e : v.as_array()) {
              message(1, e, [&](const Object& s) { schema(s); });
            }
          }
          w_.end_message(it);
        }
      } else if (k == "allOf") {
        if (v.is_array()) {
          for (const Value& e : v.as_array()) {
            message(24, e, [&](const Object& s) { schema(s); });
          }
        }
      } else if (k == "properties") {
        // Properties {repeated NamedSchema 1}.
        message(25, v, [&](const Object& p) { named_schemas(p); });
      } else if (k == "discriminator") {
        str(26, v);
      } else if (k == "readOnly") {
        boolean(27, v);
      } else if (k == "xml") {
        message(28, v, [&](const Object& x) {
          str(1, at(x, "name"));
          str(2, at(x, "namespace"));
          str(3, at(x, "prefix"));
          boolean(4, at(x, "attribute"));
          boolean(5, at(x, "wrapped"));
          vendor_extensions(6, x);
        });
      } else if (k == "externalDocs") {
        message(29, v, [&](const Object& x) { external_docs(x); });
      } else if (k == "example") {
        any(30, v);
      }
    }
    vendor_extensions(31, o);
  }

  // repeated SecurityRequirement {repeated NamedStringArray 1 {1 name, 2 StringArray {1 values}}}.
  void security_requirements(std::uint32_t n, const Value& v) {
    if (!v.is_array()) {
      return;
    }
    for (const Value& req : v.as_array()) {
      message(n, req, [&](const Object& r) {
        for (const Member& m : r) {
          auto named = w_.begin_message(1);
          w_.bytes_field(1, m.key);
          auto arr = w_.begin_message(2);
          strings(1, m.value);
          w_.end_message(arr);
          w_.end_message(named);
        }
      });
    }
  }

  // SecurityDefinitions {repeated NamedSecurityDefinitionsItem 1 {1 name, 2 item}}; the item is a
  // oneof by `type` (and `flow` for oauth2): 1 basic, 2 apiKey, 3 implicit, 4 password,
  // 5 application, 6 accessCode.
  void security_definitions(const Object& o) {
    for (const Member& m : o) {
      message(1, m.value, [&](const Object& d) {
        w_.bytes_field(1, m.key);
        std::string_view type =
            at(d, "type").is_string() ? std::string_view(at(d, "type").as_string()) : "";
        std::string_view flow =
            at(d, "flow").is_string() ? std::string_view(at(d, "flow").as_string()) : "";
        auto item = w_.begin_message(2);
        if (type == "basic") {
          auto s = w_.begin_message(1);
          str(1, at(d, "type"));
          str(2, at(d, "description"));
          vendor_extensions(3, d);
          w_.end_message(s);
        } else if (type == "apiKey") {
          auto s = w_.begin_message(2);
          str(1, at(d, "type"));
          str(2, at(d, "name"));
          str(3, at(d, "in"));
          str(4, at(d, "description"));
          vendor_extensions(5, d);
          w_.end_message(s);
        } else if (type == "oauth2") {
          oauth2(d, flow);
        }
        w_.end_message(item);
      });
    }
  }

  void oauth2(const Object& d, std::string_view flow) {
    // Oauth2*Security: 1 type, 2 flow, 3 scopes {repeated NamedString 1}, then the flow's URLs,
    // description and vendor_extension.
    std::uint32_t which = flow == "implicit"      ? 3
                          : flow == "password"    ? 4
                          : flow == "application" ? 5
                                                  : 6;
    auto s = w_.begin_message(which);
    str(1, at(d, "type"));
    str(2, at(d, "flow"));
    message(3, at(d, "scopes"), [&](const Object& scopes) {
      for (const Member& sc : scopes) {
        auto ns = w_.begin_message(1);
        w_.bytes_field(1, sc.key);
        str(2, sc.value);
        w_.end_message(ns);
      }
    });
    std::uint32_t next = 4;
    if (which == 3 || which == 6) {
      str(next++, at(d, "authorizationUrl"));
    }
    if (which != 3) {
      str(next++, at(d, "tokenUrl"));
    }
    str(next++, at(d, "description"));
    vendor_extensions(next, d);
    w_.end_message(s);
  }

  ProtoWriter w_;
  std::unordered_map<std::string, std::string> yaml_cache_;
};

}  // namespace

std::string openapi_v2_yaml(const json::Value& value) {
  std::string out;
  block_yaml(value, 0, out);
  return out;
}

std::string encode_openapi_v2_protobuf(const json::Value& swagger) {
  Encoder e;
  return e.run(swagger);
}

}  // namespace skiff::apiserver
