/* Hover tooltips over the report's interactive heatmaps (llm_mri_graphdb.heatmap_html): the cell's label
   counts and up to five of its example texts, from the page's own `llm-mri-heatmaps` block. */
(function () {
  const data = JSON.parse(document.getElementById("llm-mri-heatmaps").textContent);
  const tip = llmMriTip();
  function onMove(event) {
    const cell = event.target.closest && event.target.closest("rect[data-r]");
    if (!cell) { tip.hide(); return; }
    const svg = cell.closest("svg");
    const label = data.labels[Number(cell.dataset.label)];
    const counts = data.counts[cell.dataset.r] || [];
    const ids = cell.dataset.t ? cell.dataset.t.split(" ").map(Number) : [];
    tip.show({
      title: "Layer " + svg.dataset.layer + " \u00b7 cell (" + cell.dataset.x + ", " + cell.dataset.y + ")",
      meta: label + ": " + llmMriTexts(counts[Number(cell.dataset.label)] || 0) + " in this cell",
      counts: data.labels.map((name, i) => [name, counts[i] || 0, data.colours[i]]),
      examplesTitle: data.perLabel ? "example texts (" + label + ")" : "example texts (all labels)",
      examples: ids.map((i) => data.texts[i]),
      note: data.texts.length ? "" : "no example texts: they come with a scan",
    }, event.clientX, event.clientY);
  }
  for (const box of document.querySelectorAll(".llm-mri-heatmaps")) {
    box.addEventListener("pointermove", onMove);
    box.addEventListener("pointerleave", () => tip.hide());
  }
})();
