/**
 * Who depends on whom. A device's parent is the device it reaches the monitor through: an AP's site
 * router, or, for a site router whose site names an `upstream`, the upstream site's router. When a parent
 * is down its dependents are unreachable (one outage, not several).
 */
import type { Device, Inventory, Site } from '../core/types.ts';

export class Topology {
  readonly #devices = new Map<string, Device>();
  readonly #sites = new Map<string, Site>();
  readonly #parent = new Map<string, string>();
  readonly #children = new Map<string, string[]>();
  readonly #bySite = new Map<string, Device[]>();

  constructor(inventory: Inventory) {
    for (const s of inventory.sites) this.#sites.set(s.id, s);
    const routerOfSite = new Map<string, string>();
    for (const d of inventory.devices) {
      this.#devices.set(d.id, d);
      const onSite = this.#bySite.get(d.siteId) ?? [];
      onSite.push(d);
      this.#bySite.set(d.siteId, onSite);
      if (d.role === 'router' && !routerOfSite.has(d.siteId)) routerOfSite.set(d.siteId, d.id);
    }
    for (const d of inventory.devices) {
      let parent = d.parent;
      if (parent === undefined && d.role === 'router') {
        const upstream = this.#sites.get(d.siteId)?.upstream;
        if (upstream !== undefined) parent = routerOfSite.get(upstream);
      }
      if (parent === undefined || parent === d.id || !this.#devices.has(parent)) continue;
      this.#parent.set(d.id, parent);
      const list = this.#children.get(parent) ?? [];
      list.push(d.id);
      this.#children.set(parent, list);
    }
  }

  device(id: string): Device | undefined {
    return this.#devices.get(id);
  }

  site(id: string): Site | undefined {
    return this.#sites.get(id);
  }

  siteOfDevice(deviceId: string): Site | undefined {
    const d = this.#devices.get(deviceId);
    return d ? this.#sites.get(d.siteId) : undefined;
  }

  deviceIds(): string[] {
    return [...this.#devices.keys()];
  }

  /** The devices of one site, in inventory order. */
  devicesOfSite(siteId: string): readonly Device[] {
    return this.#bySite.get(siteId) ?? [];
  }

  siteIds(): string[] {
    return [...this.#sites.keys()];
  }

  parentOf(deviceId: string): string | undefined {
    return this.#parent.get(deviceId);
  }

  childrenOf(deviceId: string): readonly string[] {
    return this.#children.get(deviceId) ?? [];
  }

  /** Every device that depends on this one, directly or through others (breadth first). */
  dependentsOf(deviceId: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>([deviceId]);
    const queue = [...this.childrenOf(deviceId)];
    while (queue.length > 0) {
      const id = queue.shift();
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      out.push(id);
      queue.push(...this.childrenOf(id));
    }
    return out;
  }
}
