/** Remove the benchmarks' OUs from corp (scripts/bench --remove-seed). */
import { getForest, readStackInfo } from '@canopy/stack';
import { benchOu, removeTree } from './ad.js';

export async function removeSeed(say: (m: string) => void): Promise<void> {
  const corp = getForest(readStackInfo(), 'corp');
  for (const ou of [benchOu(corp), `OU=BenchDelta,${corp.baseDn}`]) {
    const n = await removeTree(corp, ou, say);
    say(`${ou}: ${n} objects removed`);
  }
}
