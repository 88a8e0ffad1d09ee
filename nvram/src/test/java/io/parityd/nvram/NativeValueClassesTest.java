package io.parityd.nvram;

import static org.assertj.core.api.Assertions.assertThat;

import net.openhft.chronicle.values.ValueModel;
import org.junit.jupiter.api.Test;

/**
 * The build put Chronicle Map's value classes on the class path ({@link NativeValueClasses}), so a
 * journal's open uses them instead of running javac, and they are the classes Chronicle would
 * have made: same name, implementing the same interface, from the same generator's source.
 */
class NativeValueClassesTest {

    @Test
    void shouldFindEveryValueClassChronicleMapWouldCompileAlreadyBuilt() throws Exception {
        // Class.forName fails here if Chronicle Map renamed its state interface: the list would be stale.
        for (String name : NativeValueClasses.INTERFACES) {
            Class<?> type = Class.forName(name);
            String nativeName = type.getPackageName() + "." + NativeValueClasses.nativeSimpleName(type);
            Class<?> built = ClassLoader.getSystemClassLoader().loadClass(nativeName);
            assertThat(built.getProtectionDomain().getCodeSource()).as("%s comes from the build's classes", nativeName)
                    .isNotNull();
            assertThat(type).as("%s implements its interface", nativeName).isAssignableFrom(built);
            assertThat(ValueModel.acquire(type).nativeClass()).as("the class Chronicle Values uses").isSameAs(built);
            assertThat(NativeValueClasses.source(type, NativeValueClasses.nativeSimpleName(type)))
                    .as("Chronicle Values' source for it").contains("class " + NativeValueClasses.nativeSimpleName(type));
        }
    }
}
