// Graph metrics of one complete run for a label selection, computed in the database: one row of
// scalars and per-layer lists (nothing per relationship leaves the server). The graph is the one
// llm_mri_graphdb.analysis.metrics.compute_metrics uses: one edge per (source, target) region pair, weight the
// sum of the selected labels' :FLOWS weights (:FLOWS_TOTAL when $all_labels); nodes are the regions
// the selected labels occupy (grid runs) or every region (component runs). Regions are addressed by
// their canonical index idx (0 .. n - 1), so per-node values live in lists indexed by idx.
// Returned: n, n_edges; degree and strength mean and centred power sums (d2, d3, d4); assortativity
// sums over edges (sxy, sxx, syy); centre sums; per layer count, degree mean and centred square sum,
// transition entropy; for both projections (even, odd) n, edges, degree and strength mean and centred
// square sums, assortativity sums; per layer occupancy (entropy, purity, JS divergence per label pair).
// nan-valued quantities come back as null. See llm_mri_graphdb.store.neo4j.metrics for the formulas.
// Parameters: $run_id, $label_idx (list of ints, positions in run.label_names), $all_labels (bool).
MATCH (run:Run {id: $run_id, status: 'complete'})
WITH run, [i IN $label_idx | run.label_names[i]] AS labels
MATCH (g:Region {version: run.version})
WITH run, labels, g, run.kind <> 'grid' OR reduce(c = 0, i IN $label_idx | c + g.counts[i]) > 0 AS kept
WITH run, labels, g, kept,
     CASE WHEN NOT kept THEN [] WHEN $all_labels THEN [(g)-[f:FLOWS_TOTAL]->(t) | [t.idx, f.weight]]
          ELSE [(g)-[f:FLOWS]->(t) WHERE f.label IN labels | [t.idx, f.weight]] END AS out_raw,
     CASE WHEN NOT kept THEN [] WHEN $all_labels THEN [(g)<-[f:FLOWS_TOTAL]-(s) | [s.idx, f.weight]]
          ELSE [(g)<-[f:FLOWS]-(s) WHERE f.label IN labels | [s.idx, f.weight]] END AS in_raw
// one entry per neighbour: a pair's :FLOWS of several selected labels are summed
WITH run, g, kept,
     CASE WHEN $all_labels OR size($label_idx) = 1 THEN out_raw ELSE
       reduce(acc = [], p IN out_raw | CASE WHEN p[0] IN [q IN acc | q[0]]
         THEN [q IN acc | CASE WHEN q[0] = p[0] THEN [q[0], q[1] + p[1]] ELSE q END] ELSE acc + [p] END) END AS outs,
     CASE WHEN $all_labels OR size($label_idx) = 1 THEN in_raw ELSE
       reduce(acc = [], p IN in_raw | CASE WHEN p[0] IN [q IN acc | q[0]]
         THEN [q IN acc | CASE WHEN q[0] = p[0] THEN [q[0], q[1] + p[1]] ELSE q END] ELSE acc + [p] END) END AS ins
WITH run, g, kept, [p IN outs | p[0]] AS out_t, [p IN outs | toFloat(p[1])] AS out_w,
     [p IN ins | p[0]] AS in_t, reduce(s = 0.0, p IN ins | s + p[1]) AS in_w
ORDER BY g.idx
WITH run, collect(g.layer) AS L, collect([i IN $label_idx | g.counts[i]]) AS CN,
     collect(kept) AS K,
     collect(out_t) AS OT, collect(out_w) AS OW, collect(in_t) AS IT, collect(in_w) AS IW
WITH run, L, CN, OT, OW, IT, IW, [i IN range(0, size(L) - 1) WHERE K[i]] AS nodes, run.n_layers AS nl
WITH run, L, CN, OT, OW, IT, IW, nodes, nl,
     [i IN range(0, size(L) - 1) | size(OT[i])] AS OD, [i IN range(0, size(L) - 1) | size(IT[i])] AS ID,
     [i IN range(0, size(L) - 1) | reduce(s = 0.0, w IN OW[i] | s + w)] AS OS,
     COLLECT { UNWIND nodes AS i WITH L[i] AS l, collect(i) AS ids RETURN [l, ids] } AS groups
WITH run, L, CN, OT, OW, IT, IW, nodes, nl, OD, ID, OS,
     [l IN range(0, nl - 1) | reduce(a = [], p IN groups | CASE WHEN p[0] = l THEN p[1] ELSE a END)] AS by_layer,
     [i IN range(0, size(L) - 1) | OD[i] + ID[i]] AS D, [i IN range(0, size(L) - 1) | OS[i] + IW[i]] AS S,
     [i IN range(0, size(L) - 1) | CASE WHEN OD[i] > 1 THEN 1.0 / (OD[i] - 1) ELSE 0.0 END] AS INV,
     size(nodes) AS n, reduce(e = 0, i IN nodes | e + OD[i]) AS n_edges
// graph-wide moments, assortativity and centres
WITH *, CASE WHEN n = 0 THEN null ELSE reduce(s = 0.0, i IN nodes | s + D[i]) / n END AS dm,
     CASE WHEN n = 0 THEN null ELSE reduce(s = 0.0, i IN nodes | s + S[i]) / n END AS sm,
     CASE WHEN n_edges = 0 THEN null ELSE reduce(s = 0.0, i IN nodes | s + OD[i] * OS[i]) / n_edges END AS ax,
     CASE WHEN n_edges = 0 THEN null ELSE reduce(s = 0.0, i IN nodes | s + ID[i] * IW[i]) / n_edges END AS ay
WITH *,
     {n: n, n_edges: n_edges,
      degree: {mean: dm, d2: reduce(s = 0.0, i IN nodes | s + (D[i] - dm) ^ 2),
               d3: reduce(s = 0.0, i IN nodes | s + (D[i] - dm) ^ 3),
               d4: reduce(s = 0.0, i IN nodes | s + (D[i] - dm) ^ 4)},
      strength: {mean: sm, d2: reduce(s = 0.0, i IN nodes | s + (S[i] - sm) ^ 2),
                 d3: reduce(s = 0.0, i IN nodes | s + (S[i] - sm) ^ 3),
                 d4: reduce(s = 0.0, i IN nodes | s + (S[i] - sm) ^ 4)},
      assortativity: {sxy: reduce(s = 0.0, i IN nodes | s + (OS[i] - ax) * reduce(a = 0.0, t IN OT[i] | a + IW[t] - ay)),
                      sxx: reduce(s = 0.0, i IN nodes | s + OD[i] * (OS[i] - ax) ^ 2),
                      syy: reduce(s = 0.0, i IN nodes | s + ID[i] * (IW[i] - ay) ^ 2)},
      mass: reduce(s = 0.0, i IN nodes | s + L[i] - nl / 2.0),
      strength_total: reduce(s = 0.0, i IN nodes | s + S[i]),
      strength_moment: reduce(s = 0.0, i IN nodes | s + S[i] * (L[i] - nl / 2.0))} AS graph
// per layer: degree count, mean, centred square sum; transition entropy (layer -> layer + 1)
WITH *, [ids IN by_layer |
         {n: size(ids), mean: CASE WHEN size(ids) = 0 THEN null ELSE reduce(s = 0.0, i IN ids | s + D[i]) / size(ids) END,
          flow: reduce(s = 0.0, i IN ids | s + reduce(a = 0.0, w IN OW[i] | a + w)),
          ids: ids}] AS layer_rows
WITH *, [r IN layer_rows |
         {n: r.n, mean: r.mean, d2: reduce(s = 0.0, i IN r.ids | s + (D[i] - r.mean) ^ 2),
          transition_entropy: CASE WHEN r.flow <= 0 THEN null ELSE
            reduce(h = 0.0, i IN r.ids | h + reduce(a = 0.0, w IN OW[i] |
              a + CASE WHEN w > 0 THEN -(w / r.flow) * log(w / OS[i]) / log(2) ELSE 0.0 END)) END}] AS layers
// collaboration-weighted projections onto even (0) and odd (1) layers: an edge u -> v for every
// 2-step path u -> w -> v, weight the sum over w of 1 / (out_degree(w) - 1) (0 when out_degree(w) = 1);
// so v's 2-step successors (O2) and predecessors (I2) are distinct, out-strength XP[u] is the sum over
// w of out_degree(w) / (out_degree(w) - 1) and in-strength YP[v] that of in_degree(w) / (out_degree(w) - 1)
WITH *, [i IN range(0, size(L) - 1) | reduce(acc = [], v IN reduce(f = [], w IN OT[i] | f + OT[w]) |
                                      CASE WHEN v IN acc THEN acc ELSE acc + v END)] AS O2,
        [i IN range(0, size(L) - 1) | reduce(acc = [], u IN reduce(f = [], w IN IT[i] | f + IT[w]) |
                                      CASE WHEN u IN acc THEN acc ELSE acc + u END)] AS I2,
        [i IN range(0, size(L) - 1) | reduce(s = 0.0, w IN OT[i] | s + OD[w] * INV[w])] AS XP,
        [i IN range(0, size(L) - 1) | reduce(s = 0.0, w IN IT[i] | s + ID[w] * INV[w])] AS YP
WITH *, [p IN [0, 1] | [i IN nodes WHERE L[i] % 2 = p]] AS sides
WITH *, [ids IN sides | {ids: ids, n: size(ids), n_edges: reduce(e = 0, u IN ids | e + size(O2[u])),
          dm: CASE WHEN size(ids) = 0 THEN null
              ELSE reduce(s = 0.0, u IN ids | s + size(O2[u]) + size(I2[u])) / size(ids) END,
          sm: CASE WHEN size(ids) = 0 THEN null ELSE reduce(s = 0.0, u IN ids | s + XP[u] + YP[u]) / size(ids) END}]
        AS sides
WITH *, [q IN sides | {ids: q.ids, n: q.n, n_edges: q.n_edges, dm: q.dm, sm: q.sm,
          ax: CASE WHEN q.n_edges = 0 THEN null ELSE reduce(s = 0.0, u IN q.ids | s + size(O2[u]) * XP[u]) / q.n_edges END,
          ay: CASE WHEN q.n_edges = 0 THEN null ELSE reduce(s = 0.0, u IN q.ids | s + size(I2[u]) * YP[u]) / q.n_edges END}]
        AS sides
WITH *, [q IN sides | {n: q.n, n_edges: q.n_edges,
          degree: {mean: q.dm, d2: reduce(s = 0.0, u IN q.ids | s + (size(O2[u]) + size(I2[u]) - q.dm) ^ 2)},
          strength: {mean: q.sm, d2: reduce(s = 0.0, u IN q.ids | s + (XP[u] + YP[u] - q.sm) ^ 2)},
          assortativity: {sxy: reduce(s = 0.0, u IN q.ids | s + (XP[u] - q.ax) * reduce(a = 0.0, v IN O2[u] | a + YP[v] - q.ay)),
                          sxx: reduce(s = 0.0, u IN q.ids | s + size(O2[u]) * (XP[u] - q.ax) ^ 2),
                          syy: reduce(s = 0.0, u IN q.ids | s + size(I2[u]) * (YP[u] - q.ay) ^ 2)}}] AS projections
// occupancy of each layer by the selected labels (grid runs): entropy, purity, JS divergence per pair
WITH *, size($label_idx) AS k
WITH *, reduce(f = [], a IN range(0, k - 1) | f + [b IN range(a + 1, k - 1) | [a, b]]) AS pairs
WITH *, [ids IN by_layer | {ids: ids, rows: [i IN ids | reduce(c = 0, x IN CN[i] | c + x)],
          tops: [i IN ids | reduce(m = 0, x IN CN[i] | CASE WHEN x > m THEN x ELSE m END)],
          per_label: [a IN range(0, k - 1) | reduce(c = 0, i IN ids | c + CN[i][a])]}] AS occ
WITH *, [o IN occ | {total: reduce(c = 0, r IN o.rows | c + r), top: reduce(c = 0, r IN o.tops | c + r),
          ids: o.ids, rows: o.rows, per_label: o.per_label}] AS occ
WITH *, [o IN occ | {
          entropy: CASE WHEN o.total = 0 THEN null ELSE
            reduce(h = 0.0, r IN o.rows | h + CASE WHEN r > 0 THEN -(1.0 * r / o.total) * log(1.0 * r / o.total) / log(2) ELSE 0.0 END) END,
          purity: CASE WHEN o.total = 0 THEN null ELSE 1.0 * o.top / o.total END,
          js: [ab IN pairs | CASE WHEN o.per_label[ab[0]] = 0 OR o.per_label[ab[1]] = 0 THEN null ELSE
            reduce(h = 0.0, i IN o.ids |
              h + CASE WHEN CN[i][ab[0]] + CN[i][ab[1]] = 0 THEN 0.0 ELSE
                -((1.0 * CN[i][ab[0]] / o.per_label[ab[0]] + 1.0 * CN[i][ab[1]] / o.per_label[ab[1]]) / 2)
                  * log((1.0 * CN[i][ab[0]] / o.per_label[ab[0]] + 1.0 * CN[i][ab[1]] / o.per_label[ab[1]]) / 2) / log(2) END
                + CASE WHEN CN[i][ab[0]] = 0 THEN 0.0 ELSE
                (1.0 * CN[i][ab[0]] / o.per_label[ab[0]]) * log(1.0 * CN[i][ab[0]] / o.per_label[ab[0]]) / log(2) / 2 END
                + CASE WHEN CN[i][ab[1]] = 0 THEN 0.0 ELSE
                (1.0 * CN[i][ab[1]] / o.per_label[ab[1]]) * log(1.0 * CN[i][ab[1]] / o.per_label[ab[1]]) / log(2) / 2 END)
            END]}] AS occupancy,
        reduce(c = 0, o IN occ | c + o.top) AS grand_top, reduce(c = 0, o IN occ | c + o.total) AS grand_total
RETURN graph, [r IN layers | {n: r.n, mean: r.mean, d2: r.d2, transition_entropy: r.transition_entropy}] AS layers,
       projections, occupancy, grand_top, grand_total, pairs, run.kind AS kind
