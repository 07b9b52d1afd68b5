// The part of fuse-native's API that bqlogfs uses (the package ships no types).
declare module 'fuse-native' {
  interface FuseOptions {
    fsname?: string;
    subtype?: string;
    autoCache?: boolean;
    kernelCache?: boolean;
    /** Given as a string, since 0 would be dropped as falsy. */
    attrTimeout?: number | string;
    entryTimeout?: number;
    allowOther?: boolean;
    defaultPermissions?: boolean;
    uid?: number;
    gid?: number;
    mkdir?: boolean;
    force?: boolean;
    debug?: boolean;
    timeout?: number | false | Record<string, number>;
  }
  class Fuse {
    /** Negative errno values by name, such as Fuse.ENOENT. */
    static [errno: string]: unknown;
    constructor(mountpoint: string, ops: Record<string, unknown>, options?: FuseOptions);
    /** The operations it was made with, which it calls for the kernel's requests. */
    readonly ops: Record<string, unknown>;
    mount(cb: (error: Error | null) => void): void;
    unmount(cb: (error: Error | null) => void): void;
    static unmount(mountpoint: string, cb: (error: Error | null) => void): void;
    static readonly ENOENT: number;
    static readonly EIO: number;
    static readonly EROFS: number;
    static readonly EBADF: number;
    static readonly EISDIR: number;
    static readonly ENOTDIR: number;
    static readonly EINVAL: number;
    static readonly ETIMEDOUT: number;
  }
  export default Fuse;
}
