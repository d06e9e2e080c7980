import os from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  totalMemGiB: number;
  loadAvg1m: number;
  platform: string;
  node: string;
  v8: string;
  execArgv: string[];
  date: string;
}

/** What a reader needs to judge the numbers: the machines are shared, so the load is recorded too. */
export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvg1m: os.loadavg()[0]!,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    execArgv: process.execArgv,
    date: new Date().toISOString(),
  };
}
