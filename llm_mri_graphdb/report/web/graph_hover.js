/* Hover tooltips and a colour switch over the NVL graph that neo4j-viz renders (llm_mri_graphdb.interactive).

   neo4j-viz's standalone page keeps its NVL instance in the React prop `nvlRef` and passes NVL no hover
   callback, so this script finds the instance through the React fiber of the canvas's container, listens to
   pointer events itself and asks NVL's public `getHits(event, ["node"])` which region is under the pointer.
   Region data comes from the page's own `neo4j-viz-data` block; nothing is fetched. `window.llmMriView`
   exposes the instance and screen positions (used by the Chromium test). */
(function () {
  const meta = JSON.parse(document.getElementById("llm-mri-view").textContent);
  const data = JSON.parse(document.getElementById("neo4j-viz-data").textContent);
  const nodes = new Map(data.nodes.map((n) => [String(n.id), n]));
  const tip = llmMriTip();
  let nvl = null;

  function findNvl() {
    const canvas = document.querySelector("canvas");
    for (let el = canvas; el; el = el.parentElement) {
      const key = Object.keys(el).find((k) => k.startsWith("__reactFiber$"));
      if (!key) continue;
      for (let fiber = el[key]; fiber; fiber = fiber.return) {
        const ref = fiber.memoizedProps && fiber.memoizedProps.nvlRef;
        if (ref && ref.current && typeof ref.current.getHits === "function") return ref.current;
      }
      return null;
    }
    return null;
  }

  const colour = (index) => meta.palette[((index % meta.palette.length) + meta.palette.length) % meta.palette.length];
  const colourOf = (node, by) => by === "layer" ? colour(node.properties.layer)
    : colour(meta.labels.indexOf(node.properties["dominant label"]));

  function content(node) {
    const p = node.properties;
    const examples = [];
    for (let k = 1; ("example " + k) in p; k++) examples.push(p["example " + k]);
    return {
      title: "Region " + node.id,
      meta: "layer " + p.layer + " \u00b7 " + llmMriTexts(p.texts) + " \u00b7 mostly " + p["dominant label"],
      counts: meta.labels.map((name, i) => [name, p[name], colour(i)]),
      examples: examples.slice(0, meta.maxExamples),
      note: meta.hasExamples ? "" : "no example texts in this view",
    };
  }

  const inside = (r, e) => e.clientX >= r.left && e.clientX < r.right && e.clientY >= r.top && e.clientY < r.bottom;

  function onMove(event) {
    nvl = nvl || findNvl();
    const canvas = document.querySelector("canvas");
    if (!nvl || !canvas || !inside(canvas.getBoundingClientRect(), event) || event.target.closest("button, .llm-mri-bar")) {
      tip.hide();
      return;
    }
    const hits = nvl.getHits(event, ["node"]).nvlTargets.nodes.filter((h) => h.insideNode);
    const node = hits.length ? nodes.get(String(hits[0].data.id)) : undefined;
    if (node) tip.show(content(node), event.clientX, event.clientY); else tip.hide();
  }
  document.addEventListener("pointermove", onMove, true);
  document.addEventListener("pointerleave", () => tip.hide());

  /* Colour switch: by dominant label or by layer, through NVL's updateElementsInGraph. */
  let colourBy = meta.colorBy;
  const bar = document.createElement("div");
  bar.className = "llm-mri-bar";
  const legend = document.createElement("span");
  function recolour(by) {
    colourBy = by;
    nvl = nvl || findNvl();
    if (nvl) nvl.updateElementsInGraph([...nodes.values()].map((n) => ({ id: String(n.id), color: colourOf(n, by) })), []);
    for (const b of bar.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.by === by));
    const keys = by === "layer" ? [...new Set([...nodes.values()].map((n) => n.properties.layer))].sort((a, b) => a - b)
      : meta.labels;
    legend.replaceChildren(...keys.map((key, i) => {
      const item = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "sw";
      sw.style.background = by === "layer" ? colour(key) : colour(i);
      item.append(sw, document.createTextNode(by === "layer" ? "layer " + key : key));
      return item;
    }));
  }
  bar.appendChild(document.createTextNode("colour by "));
  for (const by of ["label", "layer"]) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.by = by;
    b.textContent = by;
    b.addEventListener("click", () => recolour(by));
    bar.appendChild(b);
  }
  bar.appendChild(legend);
  document.body.appendChild(bar);
  recolour(colourBy);

  window.llmMriView = {
    nvl: () => (nvl = nvl || findNvl()),
    colourBy: () => colourBy,
    recolour,
    /* Client coordinates (this page's viewport) of a region's centre, from NVL's zoom, pan and positions. */
    screenPosition(id) {
      const instance = this.nvl();
      const canvas = document.querySelector("canvas");
      if (!instance || !canvas) return null;
      const pos = instance.getNodePositions().find((p) => String(p.id) === String(id));
      if (!pos) return null;
      const rect = canvas.getBoundingClientRect(), zoom = instance.getScale(), pan = instance.getPan();
      const ratio = window.devicePixelRatio || 1;
      return { x: rect.left + rect.width / 2 + ((pos.x - pan.x) * zoom) / ratio,
               y: rect.top + rect.height / 2 + ((pos.y - pan.y) * zoom) / ratio };
    },
  };
})();
