// Flame graph: rpt_flame_tree with sub-pixel frames folded into their parents (site/derive.ts).
export const tables = {tree: "flame_tree"};

export const boot = {
  hosts: () => `SELECT name FROM tree WHERE level = 'host' ORDER BY value DESC, name`
};

export const defaults = () => ({filter: {host: null}});

export const views = {
  // The host filter keeps the root and one host's subtree (each frame carries its host, see site/derive.ts).
  nodes: ({filter}) => [
    `SELECT id, parent_id, name, level, value, pq_share, quantum_status FROM tree
     ${filter.host ? "WHERE parent_id IS NULL OR host = ?" : ""} ORDER BY id`,
    filter.host ? [filter.host] : []
  ]
};
