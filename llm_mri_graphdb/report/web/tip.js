/* The tooltip shared by graph_hover.js and heatmap_hover.js. Built with DOM nodes and textContent only,
   so example texts can never inject markup. */
function llmMriTexts(n) { return n + (Number(n) === 1 ? " text" : " texts"); }

function llmMriTip() {
  const tip = document.createElement("div");
  tip.className = "llm-mri-tip";
  tip.setAttribute("role", "tooltip");
  document.body.appendChild(tip);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  return {
    el: tip,
    /* content: {title, meta, counts: [[name, count, colour]], examples: [text], note} */
    show(content, clientX, clientY) {
      tip.replaceChildren(el("b", content.title));
      if (content.meta) tip.appendChild(el("div", content.meta, "meta"));
      if (content.counts && content.counts.length) {
        const table = el("table");
        for (const [name, count, colour] of content.counts) {
          const row = table.insertRow();
          const cell = row.insertCell();
          if (colour) { const sw = el("span", undefined, "sw"); sw.style.background = colour; cell.appendChild(sw); }
          cell.appendChild(document.createTextNode(name));
          const n = row.insertCell(); n.className = "n"; n.textContent = String(count);
        }
        tip.appendChild(table);
      }
      if (content.examples && content.examples.length) {
        tip.appendChild(el("div", content.examplesTitle || "example texts", "meta"));
        const list = el("ol");
        for (const text of content.examples) list.appendChild(el("li", text));
        tip.appendChild(list);
      } else if (content.note) {
        tip.appendChild(el("div", content.note, "none"));
      }
      tip.style.display = "block";
      const pad = 12, w = tip.offsetWidth, h = tip.offsetHeight;
      const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
      let x = clientX + pad, y = clientY + pad;
      if (x + w > vw - 4) x = Math.max(4, clientX - pad - w);
      if (y + h > vh - 4) y = Math.max(4, vh - 4 - h);
      tip.style.left = x + "px";
      tip.style.top = y + "px";
    },
    hide() { tip.style.display = "none"; },
  };
}
