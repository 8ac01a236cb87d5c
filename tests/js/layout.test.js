// The client library's layout (docs/client.md): lib/ knows no page, the pages' parts
// do not know each other, and nothing imports in a circle (production hashes the
// modules' names, which a cycle makes impossible: chatsite/staticfiles.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const STATIC = join(dirname(fileURLToPath(import.meta.url)), "../../static/chat");
const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)";/gms;

function modules(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? modules(join(dir, d.name)) : d.name.endsWith(".js") ? [join(dir, d.name)] : []
  );
}

const graph = new Map(
  modules(STATIC).map((file) => [
    relative(STATIC, file),
    [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => relative(STATIC, join(dirname(file), m[1]))),
  ])
);

test("every import is relative, of a module that exists", () => {
  for (const [name, deps] of graph) {
    for (const dep of deps) {
      assert.ok(graph.has(dep), `${name} imports ${dep}`);
    }
  }
});

test("lib/ imports only lib/; conversation/ and inbox/ only lib/ and themselves", () => {
  for (const [name, deps] of graph) {
    const area = name.split("/")[0];
    for (const dep of deps) {
      const to = dep.split("/")[0];
      if (area === "lib") {
        assert.equal(to, "lib", `${name} imports ${dep}`);
      } else if (area === "conversation" || area === "inbox") {
        assert.ok(to === "lib" || to === area, `${name} imports ${dep}`);
      }
    }
  }
});

test("no module imports itself through others", () => {
  const state = new Map();
  const visit = (name, path) => {
    if (state.get(name) === "done") {
      return;
    }
    assert.notEqual(state.get(name), "open", "cycle: " + path.concat(name).join(" -> "));
    state.set(name, "open");
    for (const dep of graph.get(name) || []) {
      visit(dep, path.concat(name));
    }
    state.set(name, "done");
  };
  for (const name of graph.keys()) {
    visit(name, []);
  }
});
