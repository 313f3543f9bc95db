export declare const ROOT: string;
export declare function buildPaths(root?: string): { src: string; lib: string; entry: string; stamp: string };
export declare function newestChange(dir: string, skip?: string[]): number;
export declare function buildIsCurrent(root?: string): boolean;
