package io.parityd.member;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.block.BlockDevice;
import io.parityd.block.BlockDeviceContract;

/**
 * The {@link BlockDevice} contract for {@link BlockMember} on a loop device with 4 KiB logical
 * sectors, at the 512-byte granularity the RAID engine uses: every request that is not in whole
 * 4 KiB sectors goes through read-modify-write.
 */
class BlockMemberOn4kSectorsTest extends BlockDeviceContract {

    @RegisterExtension
    final LoopDevices loops = new LoopDevices();

    @TempDir
    Path dir;

    private final AtomicInteger created = new AtomicInteger();

    @Override
    protected BlockDevice newDevice(long minSize) throws IOException {
        long size = (minSize + 4095) & -4096L;
        Path file = LoopDevices.backingFile(dir.resolve(created.incrementAndGet() + ".img"), size);
        return BlockMember.open(loops.attach(file, 4096), false);
    }

    @Override
    protected int alignment() {
        return 512;
    }
}
